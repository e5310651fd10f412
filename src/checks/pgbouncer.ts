import { splitHostPort, type PgbouncerCheckConfig } from '../config/index.js'
import type { Finding } from './deadline.js'
import { hasCode, SocketError } from '../errors/index.js'
import { exchange } from '../net/exchange.js'
import { protocolAnswer, SSL_REQUEST, type HeldProtocolProbes } from './held-probe.js'
import { runPgSession, type PgSessionHolder } from './pg-held.js'

// Reachability is proven with the PostgreSQL SSLRequest: 8 bytes out, one byte
// ('S' or 'N') back. It needs no credentials, opens no server connection and no
// pool slot, and only a process that speaks the protocol answers it correctly;
// a plain TCP connect would pass for any listener on the port. A startup packet
// would need a user and would count as a client login in PgBouncer's stats,
// and on a logged-in connection every message takes a server connection in
// transaction pooling (PgBouncer's handle_client_work). The daemon asks on
// held connections (held-probe.ts).

/** What the daemon holds for this check from round to round. */
export interface PgbouncerHeld {
  probes: HeldProtocolProbes
  /** a held admin-console session per target */
  admin(target: string): PgSessionHolder
}

export { splitHostPort }

/**
 * Resolves with the round trip in ms once `target` answers the SSLRequest; rejects
 * with "<target>: <reason>" on refusal, a wrong answer, a close, or no answer
 * within timeoutMs (or when `signal` aborts first).
 */
export async function probeProtocol(target: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const started = performance.now()
  let answer: Buffer
  try {
    answer = await exchange({
      to: splitHostPort(target),
      send: SSL_REQUEST,
      complete: (received) => (received.length ? received.subarray(0, 1) : undefined),
      timeoutMs,
      label: target,
      ...(signal ? { signal } : {}),
    })
  } catch (err) {
    if (hasCode(err, 'HA_ERR_TIMEOUT')) throw new Error(err.message)
    if (err instanceof SocketError && err.errno) throw new Error(`${target}: ${err.errno}`)
    if (hasCode(err, 'HA_ERR_SOCKET')) throw new Error(`${target}: closed without answering`)
    throw err
  }
  // 'E' is an ErrorResponse: a PostgreSQL-speaking server that refuses SSLRequest
  // (very old servers), still proof of the protocol.
  protocolAnswer(target, answer[0]!)
  return Math.round((performance.now() - started) * 10) / 10
}

export interface PoolsSummary {
  /** clients waiting for a server connection, summed over the pools (SHOW POOLS cl_waiting) */
  clientsWaiting: number
  /** the longest wait of the oldest waiting client, seconds (SHOW POOLS maxwait) */
  maxWaitSeconds: number
  /** SHOW LISTS: used_clients, free_clients, used_servers ... as numbers */
  lists: Record<string, number>
}

/** Reads SHOW POOLS and SHOW LISTS from one PgBouncer's admin console. */
export async function readPools(target: string, cfg: PgbouncerCheckConfig, timeoutMs: number, signal?: AbortSignal, held?: PgSessionHolder): Promise<PoolsSummary> {
  const { host, port } = splitHostPort(target)
  const login = { host, port, user: cfg.admin!.user, database: cfg.admin!.dbname, ...(cfg.adminPassword !== undefined ? { password: cfg.adminPassword } : {}) }
  try {
    return await runPgSession(held, login, timeoutMs, cfg.reconnect_interval_ms, signal, async (s) => {
        // The admin console speaks only the simple query protocol: plain text, no parameters.
        const pools = (await s.query('SHOW POOLS')) as { rows: Array<Record<string, string>> }
        const lists = (await s.query('SHOW LISTS')) as { rows: Array<{ list?: string; items?: string }> }
        let clientsWaiting = 0
        let maxWaitSeconds = 0
        for (const row of pools.rows) {
          clientsWaiting += Number(row.cl_waiting ?? 0)
          maxWaitSeconds = Math.max(maxWaitSeconds, Number(row.maxwait ?? 0))
        }
        const listCounts: Record<string, number> = {}
        for (const row of lists.rows) if (row.list) listCounts[row.list] = Number(row.items ?? 0)
        return { clientsWaiting, maxWaitSeconds, lists: listCounts }
      },
    )
  } catch (err) {
    throw new Error(`${target} admin console: ${(err as Error).message}`)
  }
}

/** Each target answers the PostgreSQL protocol; at least min_up of them. */
export async function probePgbouncer(cfg: PgbouncerCheckConfig, timeoutMs: number, signal: AbortSignal, held?: PgbouncerHeld): Promise<Finding> {
  const started = performance.now()
  const ask = (t: string) => (held ? held.probes.probe(t, timeoutMs, cfg.reconnect_interval_ms, signal) : probeProtocol(t, timeoutMs, signal))
  const results = await Promise.allSettled(cfg.targets.map(ask))
  const up: string[] = []
  const down: string[] = []
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') up.push(cfg.targets[i]!)
    else down.push((r.reason as Error).message)
  })
  const data: Record<string, unknown> = { up: up.length, total: cfg.targets.length, min_up: cfg.min_up, answering: up, down }
  let waiting = ''
  if (cfg.admin && up.length > 0) {
    // Reading the pools is a report, not the verdict: it gets what is left of the budget.
    const left = Math.max(1, Math.floor(timeoutMs - (performance.now() - started)))
    const pools = await Promise.allSettled(up.map((t) => readPools(t, cfg, left, signal, held?.admin(t))))
    const read = pools.filter((p): p is PromiseFulfilledResult<PoolsSummary> => p.status === 'fulfilled').map((p) => p.value)
    const clientsWaiting = read.reduce((s, p) => s + p.clientsWaiting, 0)
    data.clients_waiting = clientsWaiting
    data.max_wait_seconds = Math.max(0, ...read.map((p) => p.maxWaitSeconds))
    data.pools = Object.fromEntries(up.map((t, i) => [t, pools[i]!.status === 'fulfilled' ? (pools[i] as PromiseFulfilledResult<PoolsSummary>).value : null]))
    const failed = pools.filter((p): p is PromiseRejectedResult => p.status === 'rejected').map((p) => (p.reason as Error).message)
    if (failed.length) data.admin_errors = failed
    waiting = read.length ? `, ${clientsWaiting} clients waiting` : ', SHOW POOLS unreadable'
  }
  const summary = `${up.length}/${cfg.targets.length} PgBouncers answer (need ${cfg.min_up})${waiting}`
  if (up.length < cfg.min_up) return { ok: false, detail: `${summary}: ${down.join('; ')}`, data }
  return { ok: true, detail: down.length ? `${summary}; down: ${down.join('; ')}` : summary, data }
}
