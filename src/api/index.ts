export { buildApp, type AppOptions } from './app.js'
export { createMetrics, type AgentMetrics } from './metrics.js'
export type { StatusSnapshot } from './status.js'
export { StatusFeed, HEARTBEAT_MAX_MS, HEARTBEAT_MIN_MS } from './stream.js'
