// One way to talk to PostgreSQL and PgBouncer from a check: a client with a
// hard deadline over connect and queries together, that leaves nothing behind.
// pg has no AbortSignal support, its timeouts report themselves only in message
// text, and its end() waits for the server's goodbye, which a hung server never
// sends. So the deadline is ours (a TimeoutError that says which phase it hit),
// and a client that gave up is destroyed, not ended.
import type { Client, ClientConfig, QueryResult } from 'pg'
import { TimeoutError } from '../errors/index.js'

export interface PgSession {
  /** one simple-protocol query (several statements allowed); what is left of the deadline bounds it */
  query(text: string): Promise<QueryResult | QueryResult[]>
  /** ms left before the deadline */
  left(): number
}

/**
 * Destroys the client's socket at once. pg (8.x) has no public way to do this;
 * `connection.stream` is its net.Socket. test/checks/pg-client.test.ts fails if
 * a pg upgrade moves it (a hung server would then keep the socket open).
 */
export function destroyPgClient(client: Client): void {
  try {
    ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
  } catch {
    // already gone
  }
}

/**
 * Connects, runs `work`, and closes, all within timeoutMs. A timeout rejects with
 * TimeoutError ("no connection within N ms" before the server said ready, "no
 * answer within N ms" after); an abort of `signal` likewise ("before the
 * deadline"). Server errors reject as pg reports them (with `code`).
 */
export async function withPgSession<T>(config: ClientConfig, timeoutMs: number, signal: AbortSignal | undefined, work: (s: PgSession) => Promise<T>): Promise<T> {
  // The deadline runs from the call, not from when pg has loaded: the first
  // import parses pg (tens of ms on a busy node), and the check's backstop,
  // armed at the same moment as this, must not fire first.
  const deadline = performance.now() + timeoutMs
  const { default: pg } = await import('pg')
  const client = new pg.Client({ ...config, application_name: config.application_name ?? 'ha-agent check' })
  // Errors after we gave up (the socket being torn down) must not crash us.
  client.on('error', () => {})
  let connected = false
  let settle: (err: Error) => void = () => {}
  const gaveUp = new Promise<never>((_, reject) => (settle = reject))
  gaveUp.catch(() => {})
  const giveUp = (why: string) => {
    destroyPgClient(client)
    settle(new TimeoutError(why, timeoutMs))
  }
  const timer = setTimeout(() => giveUp(connected ? `no answer within ${timeoutMs} ms` : `no connection within ${timeoutMs} ms`), Math.max(0, deadline - performance.now()))
  const onAbort = () => giveUp('no answer before the deadline')
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  let clean = false
  try {
    await Promise.race([client.connect(), gaveUp])
    connected = true
    const session: PgSession = {
      query: (text) => Promise.race([client.query(text) as Promise<QueryResult | QueryResult[]>, gaveUp]),
      left: () => Math.max(1, Math.floor(deadline - performance.now())),
    }
    const result = await Promise.race([work(session), gaveUp])
    clean = true
    return result
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    if (clean) void client.end().catch(() => {})
    else destroyPgClient(client)
  }
}
