import type { PostgresCheckConfig } from '../config/index.js'
import { hasCode } from '../errors/index.js'
import type { Finding } from './deadline.js'
import { runPgSession, type PgSessionHolder } from './pg-held.js'

/** Runs the configured query (SELECT 1) through the URL, usually the local HAProxy; on `held`'s session when given (the daemon). */
export async function probePostgres(cfg: PostgresCheckConfig, timeoutMs: number, signal: AbortSignal, held?: PgSessionHolder): Promise<Finding> {
  const where = new URL(cfg.url)
  const target = `${where.hostname}:${where.port || 5432}`
  try {
    const rows = await runPgSession(
      held,
      // No statement_timeout startup parameter: PgBouncer rejects it ("unsupported startup parameter").
      { connectionString: cfg.url, ...(cfg.password !== undefined ? { password: cfg.password } : {}) },
      timeoutMs,
      cfg.reconnect_interval_ms,
      signal,
      async (s) => {
        // The server stops the query too, or a hung statement would hold a backend
        // (and a PgBouncer server slot) long after we gave up. Not as a startup
        // parameter (PgBouncer refuses those) and not a session SET (in transaction
        // pooling it would stick to a shared server connection): SET LOCAL inside
        // one transaction, sent as one simple-protocol round trip.
        const serverMs = Math.max(1, s.left() - 20)
        const results = (await s.query(`BEGIN; SET LOCAL statement_timeout = ${serverMs}; ${cfg.query.trim().replace(/;+$/, '')}; COMMIT`)) as Array<{ rowCount: number | null }>
        return results[2]?.rowCount ?? 0
      },
    )
    return { ok: true, detail: `${cfg.query} via ${target}: ${rows} row(s)`, data: { target } }
  } catch (err) {
    const e = err as Error & { code?: string }
    // 57014: the server's statement_timeout cancelled it (it came first)
    const why = e.code === '57014' ? `no answer within ${timeoutMs} ms` : hasCode(err, 'HA_ERR_TIMEOUT') ? e.message : e.message || e.code || String(err)
    return { ok: false, detail: `${cfg.query} via ${target}: ${why}`, data: { target, ...(e.code && !hasCode(err, 'HA_ERR_TIMEOUT') ? { code: e.code } : {}) } }
  }
}
