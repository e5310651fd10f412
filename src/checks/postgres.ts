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
    const res = await client.query(timedQuery(cfg.query, left))
    clean = true
    return { ok: true, detail: `${cfg.query} via ${target}: ${res.rowCount ?? 0} row(s)`, data: { target } }
  } catch (err) {
    const e = err as Error & { code?: string }
    const why =
      e.message === 'Query read timeout'
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
