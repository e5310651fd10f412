// One request over a socket with a deadline: the HAProxy runtime API (unix),
// the control socket (unix), the PostgreSQL SSLRequest probe (TCP). Whatever
// the other end does (never accepts, accepts and never answers, answers half,
// closes early, answers garbage), the promise settles by the deadline and the
// socket is destroyed: nothing outlives it. A signal aborted before the call
// sends nothing.
import { connect, type Socket } from 'node:net'
import { describeSystemError, SocketError, TimeoutError } from '../errors/index.js'
import { withDeadline } from './with-deadline.js'

export interface ExchangeOptions {
  /** a unix socket path, or a TCP address */
  to: string | { host: string; port: number }
  /** sent once connected */
  send: string | Uint8Array
  /** half-close after sending: the other end answers and closes (HAProxy's one-shot mode) */
  endAfterSend?: boolean
  /**
   * Decides when the answer is complete: returns it (or the part that is) from
   * the bytes so far, or undefined to read on. Called again with `ended` when
   * the other end closes; undefined then is "closed before the answer".
   * Default: everything, at the close.
   */
  complete?: (received: Buffer, ended: boolean) => Buffer | undefined
  timeoutMs: number
  signal?: AbortSignal
  /** names the other end in messages: "HAProxy socket /run/haproxy/admin.sock" */
  label: string
}

const UNAVAILABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'])

export function exchange(opts: ExchangeOptions): Promise<Buffer> {
  const complete = opts.complete ?? ((b: Buffer, ended: boolean) => (ended ? b : undefined))
  const deadline = {
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    timedOut: () => new TimeoutError(`${opts.label}: no answer within ${opts.timeoutMs} ms`, opts.timeoutMs),
    aborted: () => new TimeoutError(`${opts.label}: no answer before the deadline`, opts.timeoutMs),
  }
  return withDeadline<Buffer>(deadline, (finish) => {
    let received = Buffer.alloc(0)
    const sock: Socket = typeof opts.to === 'string' ? connect(opts.to) : connect(opts.to)
    sock.on('connect', () => {
      if (opts.endAfterSend) sock.end(opts.send)
      else sock.write(opts.send)
    })
    sock.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const answer = complete(received, false)
      if (answer) finish(null, answer)
    })
    sock.on('end', () => {
      const answer = complete(received, true)
      if (answer) finish(null, answer)
      else finish(new SocketError('HA_ERR_SOCKET', `${opts.label}: closed without ${received.length ? 'a complete' : 'an'} answer`))
    })
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code && UNAVAILABLE.has(err.code) ? 'HA_ERR_UNAVAILABLE' : 'HA_ERR_SOCKET'
      finish(new SocketError(code, `${opts.label}: ${describeSystemError(err)}`, err.code))
    })
    return () => sock.destroy()
  })
}

/** The first line of an answer (without the newline), once it is there. */
export const untilNewline = (received: Buffer): Buffer | undefined => {
  const nl = received.indexOf(0x0a)
  return nl < 0 ? undefined : received.subarray(0, nl)
}
