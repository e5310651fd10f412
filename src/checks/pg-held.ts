// A PostgreSQL session held from round to round (the daemon's check loop): a
// query every round on a connection already open costs one round trip, where a
// new session paid a TCP handshake through HAProxy, PgBouncer's login and the
// startup messages (measured in bench/RESULTS.md). What only a new session
// shows (authentication, max_connections, PgBouncer's pool limits, the server
// HAProxy would pick now) is shown by a new one every reconnect interval.
//
// A held session is never believed: each round's query must answer within the
// round's deadline, and any failure drops it. A session that went away (the
// server or HAProxy closed it, PostgreSQL terminated the backend, a PgBouncer
// restarted) is replaced by a new one within the same deadline, so the round
// says what a new session says; a query that does not answer in time fails the
// round and the session is destroyed, not ended (a frozen server never answers
// a goodbye).
import type { Client, ClientConfig } from 'pg'
import { hasCode } from '../errors/index.js'
import { connectWithinDeadline, destroyPgClient, newPgClient, sessionOf, withinDeadline, withPgSession, type PgSession } from './pg-client.js'

interface Held {
  client: Client
  /** the connection settings it was opened with: another config opens another session */
  key: string
  openedAt: number
  /** the connection ended or failed while held: never asked again */
  gone: boolean
  busy: boolean
}

/** The connection went away under the session (as opposed to the server answering with an error). */
export function sessionLost(err: unknown, held: { gone: boolean }): boolean {
  if (held.gone) return true
  const e = err as { code?: string; message?: string }
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (the server terminated it, crashed, is starting or stopping)
  if (typeof e.code === 'string' && (/^08/.test(e.code) || /^57P0[123]$/.test(e.code))) return true
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return true
  return /Connection terminated|not queryable|ended/i.test(e.message ?? '')
}

export class PgSessionHolder {
  private held: Held | undefined
  private closed = false

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Runs `work` on the held session (or a new one) within timeoutMs, as
   * withPgSession does. `reconnectMs`: the oldest a held session may be when
   * a round begins (0: a new session every round, closed after it).
   */
  async run<T>(config: ClientConfig, timeoutMs: number, reconnectMs: number, signal: AbortSignal | undefined, work: (s: PgSession) => Promise<T>): Promise<T> {
    if (reconnectMs <= 0 || this.closed) return withPgSession(config, timeoutMs, signal, work)
    const started = this.now()
    const deadline = performance.now() + timeoutMs
    const key = keyOf(config)
    let h = this.held
    // a round under way on it (another caller): that one keeps it, this one takes its own session
    if (h?.busy) return withPgSession(config, timeoutMs, signal, work)
    if (h && (h.gone || h.key !== key || started - h.openedAt >= reconnectMs)) {
      this.drop(h, !h.gone)
      h = undefined
    }
    if (h) {
      h.busy = true
      try {
        return await withinDeadline(h.client, deadline, timeoutMs, signal, () => true, () => work(sessionOf(h!.client, deadline)))
      } catch (err) {
        this.drop(h)
        // a deadline, an abort or the server's own answer is the round's result; a session that went away is not
        if (hasCode(err, 'HA_ERR_TIMEOUT') || !sessionLost(err, h) || performance.now() >= deadline - 1) throw err
      } finally {
        h.busy = false
      }
    }
    return this.fresh(config, key, deadline, timeoutMs, signal, work)
  }

  /** Lets go of the held session (a goodbye to the server, no waiting for it). */
  close(): void {
    this.closed = true
    if (this.held) this.drop(this.held, true)
  }

  private async fresh<T>(config: ClientConfig, key: string, deadline: number, timeoutMs: number, signal: AbortSignal | undefined, work: (s: PgSession) => Promise<T>): Promise<T> {
    const client = await newPgClient(config)
    const h: Held = { client, key, openedAt: this.now(), gone: false, busy: true }
    client.on('error', () => (h.gone = true))
    client.on('end', () => (h.gone = true))
    try {
      const result = await connectWithinDeadline(client, deadline, timeoutMs, signal, work)
      h.busy = false
      if (this.closed || h.gone || (this.held && this.held !== h)) this.drop(h, true)
      else this.held = h
      return result
    } catch (err) {
      this.drop(h)
      throw err
    }
  }

  private drop(h: Held, politely = false): void {
    h.gone = true
    if (this.held === h) this.held = undefined
    if (!politely) return destroyPgClient(h.client)
    // Terminate, as a client that is done says; a server that never acknowledges it is not waited for.
    const client = h.client
    setTimeout(() => destroyPgClient(client), 1000).unref()
    void client.end().catch(() => {})
  }
}

/** A query round on `held` when there is one, else on a session of its own (the `check` command). */
export function runPgSession<T>(held: PgSessionHolder | undefined, config: ClientConfig, timeoutMs: number, reconnectMs: number, signal: AbortSignal | undefined, work: (s: PgSession) => Promise<T>): Promise<T> {
  return held ? held.run(config, timeoutMs, reconnectMs, signal, work) : withPgSession(config, timeoutMs, signal, work)
}

function keyOf(c: ClientConfig): string {
  return JSON.stringify([c.connectionString, c.host, c.port, c.user, c.database, typeof c.password === 'string' ? c.password : null])
}
