export { buildApp, type AppOptions } from './app.js'
export { createMetrics, type AgentMetrics } from './metrics.js'
export type { StatusSnapshot } from './status.js'
