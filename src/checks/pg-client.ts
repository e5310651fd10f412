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
 * Runs `step` on `client` within the deadline (ms, performance.now()): past it,
 * or when `signal` aborts, the client is destroyed and the step rejects with
 * TimeoutError ("no connection within N ms" while `connected()` says no, "no
 * answer within N ms" after; "no answer before the deadline" on an abort).
 */
export async function withinDeadline<T>(client: Client, deadline: number, timeoutMs: number, signal: AbortSignal | undefined, connected: () => boolean, step: () => Promise<T>): Promise<T> {
  let settle: (err: Error) => void = () => {}
  const gaveUp = new Promise<never>((_, reject) => (settle = reject))
  gaveUp.catch(() => {})
  const giveUp = (why: string) => {
    destroyPgClient(client)
    settle(new TimeoutError(why, timeoutMs))
  }
  const timer = setTimeout(() => giveUp(connected() ? `no answer within ${timeoutMs} ms` : `no connection within ${timeoutMs} ms`), Math.max(0, deadline - performance.now()))
  const onAbort = () => giveUp('no answer before the deadline')
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await Promise.race([step(), gaveUp])
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

/** A session's queries, each bounded by what is left of the deadline. */
export function sessionOf(client: Client, deadline: number): PgSession {
  return {
    query: (text) => client.query(text) as Promise<QueryResult | QueryResult[]>,
    left: () => Math.max(1, Math.floor(deadline - performance.now())),
  }
}

/** Connects `client` and runs `work` on its session, both within the deadline as withinDeadline says. */
export function connectWithinDeadline<T>(client: Client, deadline: number, timeoutMs: number, signal: AbortSignal | undefined, work: (s: PgSession) => Promise<T>): Promise<T> {
  let connected = false
  return withinDeadline(client, deadline, timeoutMs, signal, () => connected, async () => {
    await client.connect()
    connected = true
    return work(sessionOf(client, deadline))
  })
}

/** A new client (not connected); errors after we gave up (the socket being torn down) must not crash us. */
export async function newPgClient(config: ClientConfig): Promise<Client> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ ...config, application_name: config.application_name ?? 'ha-agent check' })
  client.on('error', () => {})
  return client
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
  const client = await newPgClient(config)
  let clean = false
  try {
    const result = await connectWithinDeadline(client, deadline, timeoutMs, signal, work)
    clean = true
    return result
  } finally {
    if (clean) void client.end().catch(() => {})
    else destroyPgClient(client)
  }
}
