export { controlRequest, controlSocketPath } from './client.js'
export { startControlServer } from './server.js'
export { parseControlRequest } from './requests.js'
export type { ControlRequest, ControlResponse } from './protocol.js'
