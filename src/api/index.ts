export { buildApp, type AppOptions } from './app.js'
export { createMetrics, type AgentMetrics } from './metrics.js'
export type { StatusSnapshot } from './status.js'
export { MAX_SWITCHOVER_TIMEOUT_MS, type ApiActions, type ActionAnswer } from './actions.js'
