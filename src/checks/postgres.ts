import type { PostgresCheckConfig } from '../config/index.js'
import type { Finding } from './deadline.js'

/** Runs the configured query (SELECT 1) through the URL, usually the local HAProxy. */
export async function probePostgres(cfg: PostgresCheckConfig, timeoutMs: number, signal: AbortSignal): Promise<Finding> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({
    connectionString: cfg.url,
    ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    connectionTimeoutMillis: timeoutMs,
    // No statement_timeout startup parameter: PgBouncer rejects it ("unsupported
    // startup parameter"); the client-side query_timeout bounds the query instead.
    query_timeout: timeoutMs,
    application_name: 'ha-agent check',
  })
  // Errors after the deadline (the socket being torn down) must not crash us.
  client.on('error', () => {})
  const abort = () => {
    // pg has no AbortSignal support: destroy the socket so nothing outlives the check.
    const conn = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection
    conn?.stream?.destroy()
  }
  signal.addEventListener('abort', abort, { once: true })
  const where = new URL(cfg.url)
  const target = `${where.hostname}:${where.port || 5432}`
  try {
    await client.connect()
    const res = await client.query(cfg.query)
    return { ok: true, detail: `${cfg.query} via ${target}: ${res.rowCount ?? 0} row(s)` }
  } catch (err) {
    return { ok: false, detail: `${cfg.query} via ${target}: ${(err as Error).message}` }
  } finally {
    signal.removeEventListener('abort', abort)
    void client.end().catch(() => {})
  }
}
