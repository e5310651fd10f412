import { connect } from 'node:net'
import { join } from 'node:path'
import { CONTROL_SOCKET_NAME, type ControlRequest, type ControlResponse } from './protocol.js'

export function controlSocketPath(runtimeDir: string): string {
  return join(runtimeDir, CONTROL_SOCKET_NAME)
}

export class ControlUnavailable extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ControlUnavailable'
  }
}

/**
 * Sends one request to the daemon. Rejects with ControlUnavailable when no daemon
 * listens (missing socket, refused) so callers can fall back; rejects with a
 * plain Error on timeout or a garbled answer. Never outlives `timeoutMs`.
 */
export function controlRequest(socketPath: string, req: ControlRequest, timeoutMs: number): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    let buf = ''
    let settled = false
    const sock = connect(socketPath)
    const done = (err: Error | null, res?: ControlResponse) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      sock.destroy()
      if (err) reject(err)
      else resolve(res!)
    }
    const timer = setTimeout(() => done(new Error(`control socket ${socketPath}: no answer within ${timeoutMs} ms`)), timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'))
    sock.on('data', (chunk: string) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      try {
        done(null, JSON.parse(buf.slice(0, nl)) as ControlResponse)
      } catch {
        done(new Error(`control socket ${socketPath}: garbled answer`))
      }
    })
    sock.on('end', () => done(new Error(`control socket ${socketPath}: closed without an answer`)))
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK')
        done(new ControlUnavailable(`no daemon at ${socketPath} (${err.code})`))
      else done(err)
    })
  })
}
