export { startDispatcher, type Dispatcher, type DispatcherOptions, type DeliveryResult, type WebhookStats } from './dispatcher.js'
export { renderRequest, signStandard, type RenderedRequest } from './render.js'
export { backoffDelay, parseRetryAfter, classifyStatus, type Outcome } from './retry.js'
