import { join } from 'node:path'
import { SocketError } from '../errors/index.js'
import { exchange, untilNewline } from '../net/exchange.js'
import { CONTROL_SOCKET_NAME, type ControlRequest, type ControlResponse } from './protocol.js'

export function controlSocketPath(runtimeDir: string): string {
  return join(runtimeDir, CONTROL_SOCKET_NAME)
}

/**
 * Sends one request to the daemon. Rejects with a SocketError HA_ERR_UNAVAILABLE
 * when no daemon listens (missing socket, refused) so callers can fall back;
 * HA_ERR_TIMEOUT when it does not answer in time; HA_ERR_PROTOCOL on a garbled
 * answer. Never outlives `timeoutMs`.
 */
export async function controlRequest(socketPath: string, req: ControlRequest, timeoutMs: number): Promise<ControlResponse> {
  const label = `control socket ${socketPath}`
  const line = await exchange({ to: socketPath, send: JSON.stringify(req) + '\n', complete: untilNewline, timeoutMs, label })
  try {
    return JSON.parse(line.toString('utf8')) as ControlResponse
  } catch {
    throw new SocketError('HA_ERR_PROTOCOL', `${label}: garbled answer`)
  }
}
