// The PgBouncer probe on held connections (the daemon's check loop). PgBouncer
// answers an SSLRequest with 'N' while a client is still logging in, and a
// client may ask again and again on the same connection (measured: PgBouncer
// 1.18; 1.24's handle_client_startup has no guard either): 8 bytes out, one
// byte back, per round, with no TCP handshake, no new socket on either end, no
// credentials and no server connection. What only a new connection shows (the
// listener accepts, max_client_conn not reached) is shown by a new one every
// reconnect interval, and whenever the held one is gone: PgBouncer closes a
// client that never logs in after client_login_timeout (60 s by default), the
// kernel tells us at no cost, and the next round connects anew. PostgreSQL
// itself answers a second SSLRequest with an ErrorResponse and closes: still
// proof of the protocol, and the next round connects anew.
//
// A held connection that does not answer within the deadline is destroyed and
// the round fails; one that closed (or closes while we ask) is replaced by a
// new connection within the same deadline: a dead connection never passes.
import { connect, type Socket } from 'node:net'
import { splitHostPort } from '../config/index.js'
import { describeSystemError } from '../errors/index.js'

/** The PostgreSQL SSLRequest: length 8, code 80877103. One buffer for every probe. */
export const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/** What a round sends and how the answer reads: one byte, N (no TLS), S (TLS offered) or E (an ErrorResponse). */
export function protocolAnswer(target: string, byte: number): { keep: boolean } {
  if (byte === 0x4e /* N */) return { keep: true }
  // S: the server would now start TLS; E: it answered with an error and closes. Both prove the protocol.
  if (byte === 0x53 /* S */ || byte === 0x45 /* E */) return { keep: false }
  throw new Error(`${target}: not the PostgreSQL protocol (answered 0x${byte.toString(16).padStart(2, '0')})`)
}

interface Held {
  sock: Socket
  openedAt: number
  /** asked before: a failure on it may be the connection's, not the server's */
  asked: boolean
  /** the connection is gone (closed, reset): never asked again */
  gone: boolean
  /** the round waiting for this connection's answer */
  waiting?: { answer(byte: number): void; fail(err: ProbeFailure): void }
}

/** Why a probe failed, and whether a new connection may still be tried within the deadline. */
class ProbeFailure extends Error {
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message)
  }
}

export class HeldProtocolProbes {
  private readonly held = new Map<string, Held>()
  private closed = false

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Resolves with the round trip in ms once `target` answers; rejects with
   * "<target>: <reason>" as probeProtocol does. `reconnectMs` is the longest a
   * connection is asked again (0: a new connection every round, as probeProtocol).
   */
  async probe(target: string, timeoutMs: number, reconnectMs: number, signal?: AbortSignal): Promise<number> {
    const started = this.now()
    const deadline = started + timeoutMs
    let h = this.held.get(target)
    // (one asked by a probe still under way is left to it: this one connects anew)
    if (h && (h.waiting || h.gone || started - h.openedAt >= reconnectMs)) {
      if (!h.waiting) this.drop(target, h)
      h = undefined
    }
    if (h) {
      try {
        await this.ask(target, h, deadline, timeoutMs, signal)
        return round(this.now() - started)
      } catch (err) {
        if (!(err instanceof ProbeFailure && err.retryable) || this.now() >= deadline - 1) throw plain(err)
      }
    }
    const fresh = this.open(target)
    try {
      await this.ask(target, fresh, deadline, timeoutMs, signal)
    } catch (err) {
      throw plain(err)
    }
    if (!fresh.gone && reconnectMs > 0 && !this.closed && !this.held.has(target)) this.held.set(target, fresh)
    else this.drop(target, fresh)
    return round(this.now() - started)
  }

  /** Lets go of every held connection. */
  close(): void {
    this.closed = true
    for (const [target, h] of this.held) this.drop(target, h)
  }

  private drop(target: string, h: Held): void {
    h.gone = true
    h.sock.destroy()
    if (this.held.get(target) === h) this.held.delete(target)
  }

  private open(target: string): Held {
    const sock = connect(splitHostPort(target))
    sock.setNoDelay(true)
    const h: Held = { sock, openedAt: this.now(), asked: false, gone: false }
    sock.on('data', (chunk: Buffer) => {
      const w = h.waiting
      h.waiting = undefined
      // One byte per question; anything else (unasked, or more) is not a server to keep asking.
      if (!w || chunk.length !== 1) this.drop(target, h)
      w?.answer(chunk[0]!)
    })
    const gone = (err?: NodeJS.ErrnoException) => {
      const w = h.waiting
      h.waiting = undefined
      this.drop(target, h)
      w?.fail(new ProbeFailure(err ? `${target}: ${err.code ?? describeSystemError(err)}` : `${target}: closed without answering`))
    }
    sock.on('close', () => gone())
    sock.on('error', (err: NodeJS.ErrnoException) => gone(err))
    return h
  }

  private ask(target: string, h: Held, deadline: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new ProbeFailure(`${target}: no answer before the deadline`))
      const reused = h.asked
      const finish = (err?: Error) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      const giveUp = (why: string) => {
        h.waiting = undefined
        this.drop(target, h)
        finish(new ProbeFailure(`${target}: ${why}`))
      }
      const onAbort = () => giveUp('no answer before the deadline')
      const timer = setTimeout(() => giveUp(`no answer within ${timeoutMs} ms`), Math.max(1, deadline - this.now()))
      signal?.addEventListener('abort', onAbort, { once: true })
      h.waiting = {
        answer: (byte) => {
          try {
            if (!protocolAnswer(target, byte).keep) this.drop(target, h)
            finish()
          } catch (err) {
            this.drop(target, h)
            finish(err as Error)
          }
        },
        // a held connection that went away while asked again: a new one may still answer in time
        fail: (err) => finish(reused ? new ProbeFailure(err.message, true) : err),
      }
      h.asked = true
      if (h.sock.connecting) h.sock.once('connect', () => h.sock.write(SSL_REQUEST))
      else h.sock.write(SSL_REQUEST)
    })
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10
const plain = (err: unknown) => (err instanceof ProbeFailure ? new Error(err.message) : err)
