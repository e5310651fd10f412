export { controlRequest, controlSocketPath, ControlUnavailable } from './client.js'
export { startControlServer } from './server.js'
export type { ControlRequest, ControlResponse } from './protocol.js'
