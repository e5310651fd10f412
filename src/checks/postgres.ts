import type { PostgresCheckConfig } from '../config/index.js'
import type { Finding } from './deadline.js'
import { destroyPgClient, timedQuery, type PgClientLike } from './pg-client.js'

/** Runs the configured query (SELECT 1) through the URL, usually the local HAProxy. */
export async function probePostgres(cfg: PostgresCheckConfig, timeoutMs: number, signal: AbortSignal): Promise<Finding> {
  const deadline = performance.now() + timeoutMs
  const where = new URL(cfg.url)
  const target = `${where.hostname}:${where.port || 5432}`
  const { default: pg } = await import('pg')
  const client = new pg.Client({
    connectionString: cfg.url,
    ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    connectionTimeoutMillis: Math.max(1, Math.floor(deadline - performance.now())),
    // No statement_timeout startup parameter: PgBouncer rejects it ("unsupported
    // startup parameter"); the client-side query timeout bounds the query instead.
    application_name: 'ha-agent check',
  })
  // Errors after the deadline (the socket being torn down) must not crash us.
  client.on('error', () => {})
  const abort = () => destroyPgClient(client as unknown as PgClientLike)
  signal.addEventListener('abort', abort, { once: true })
  let clean = false
  try {
    await client.connect()
    // Connecting and querying share one budget: the query gets what is left.
    const left = Math.max(1, Math.floor(deadline - performance.now()))
    // The server stops the query too, or a hung statement would hold a backend
    // (and a PgBouncer server slot) long after we gave up. Not as a startup
    // parameter (PgBouncer refuses those) and not a session SET (in transaction
    // pooling it would stick to a shared server connection): SET LOCAL inside
    // one transaction, sent as one simple-protocol round trip.
    const serverMs = Math.max(1, left - 20)
    const text = `BEGIN; SET LOCAL statement_timeout = ${serverMs}; ${cfg.query.trim().replace(/;+$/, '')}; COMMIT`
    const results = (await client.query(timedQuery(text, left))) as unknown as Array<{ rowCount: number | null }>
    const res = results[2]
    clean = true
    return { ok: true, detail: `${cfg.query} via ${target}: ${res?.rowCount ?? 0} row(s)`, data: { target } }
  } catch (err) {
    const e = err as Error & { code?: string }
    const why =
      e.message === 'Query read timeout' || e.code === '57014'
        ? `no answer within ${timeoutMs} ms`
        : /^(timeout expired|Connection terminated due to connection timeout)$/.test(e.message)
          ? `no connection within ${timeoutMs} ms`
          : e.message || e.code || String(err)
    return { ok: false, detail: `${cfg.query} via ${target}: ${why}`, data: { target, ...(e.code ? { code: e.code } : {}) } }
  } finally {
    signal.removeEventListener('abort', abort)
    if (clean) void client.end().catch(() => {})
    else destroyPgClient(client as unknown as PgClientLike)
  }
}
