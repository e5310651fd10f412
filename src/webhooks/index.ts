export { startDispatcher, type Dispatcher, type DispatcherOptions, type DeliveryResult, type WebhookStats } from './dispatcher.js'
export { renderRequest, signStandard, type RenderedRequest } from './render.js'
export { backoffDelay, retryDelay, parseRetryAfter, classifyStatus, MIN_RETRY_DELAY_MS, type Outcome } from './retry.js'
export type { Sink, Attempt } from './sink.js'
