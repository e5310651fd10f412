import { connect } from 'node:net'
import { splitHostPort, type PgbouncerCheckConfig } from '../config/index.js'
import type { Finding } from './deadline.js'
import { destroyPgClient, timedQuery, type PgClientLike } from './pg-client.js'

// Reachability is proven with the PostgreSQL SSLRequest: 8 bytes out, one byte
// ('S' or 'N') back. It needs no credentials, opens no server connection and no
// pool slot, and only a process that speaks the protocol answers it correctly;
// a plain TCP connect would pass for any listener on the port. A startup packet
// would need a user and would count as a client login in PgBouncer's stats.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

export { splitHostPort }

/**
 * Resolves with the round trip in ms once `target` answers the SSLRequest; rejects
 * with "<target>: <reason>" on refusal, a wrong answer, a close, or no answer
 * within timeoutMs (or when `signal` aborts first).
 */
export function probeProtocol(target: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const { host, port } = splitHostPort(target)
  const started = performance.now()
  return new Promise((resolve, reject) => {
    let settled = false
    const sock = connect({ host, port })
    const settle = (err: Error | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      sock.destroy()
      if (err) reject(err)
      else resolve(Math.round((performance.now() - started) * 10) / 10)
    }
    const fail = (why: string) => settle(new Error(`${target}: ${why}`))
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs)
    const onAbort = () => fail('no answer before the deadline')
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    sock.on('connect', () => sock.write(SSL_REQUEST))
    sock.once('data', (buf: Buffer) => {
      const answer = buf[0] ?? 0
      // 'E' is an ErrorResponse: a PostgreSQL-speaking server that refuses SSLRequest
      // (very old servers), still proof of the protocol.
      if (answer === 0x4e /* N */ || answer === 0x53 /* S */ || answer === 0x45 /* E */) settle(null)
      else fail(`not the PostgreSQL protocol (answered 0x${answer.toString(16).padStart(2, '0')})`)
    })
    sock.on('end', () => fail('closed without answering'))
    sock.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
  })
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
export async function readPools(
  target: string,
  cfg: PgbouncerCheckConfig,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PoolsSummary> {
  const { default: pg } = await import('pg')
  const { host, port } = splitHostPort(target)
  const deadline = performance.now() + timeoutMs
  const remaining = () => Math.max(1, Math.floor(deadline - performance.now()))
  const client = new pg.Client({
    host,
    port,
    user: cfg.admin!.user,
    ...(cfg.adminPassword !== undefined ? { password: cfg.adminPassword } : {}),
    database: cfg.admin!.dbname,
    connectionTimeoutMillis: timeoutMs,
    application_name: 'ha-agent check',
  })
  client.on('error', () => {})
  const abort = () => destroyPgClient(client as unknown as PgClientLike)
  signal?.addEventListener('abort', abort, { once: true })
  let clean = false
  try {
    await client.connect()
    // The admin console speaks only the simple query protocol: plain text, no parameters.
    const pools = await client.query(timedQuery('SHOW POOLS', remaining()))
    const lists = await client.query(timedQuery('SHOW LISTS', remaining()))
    let clientsWaiting = 0
    let maxWaitSeconds = 0
    for (const row of pools.rows as Array<Record<string, string>>) {
      clientsWaiting += Number(row.cl_waiting ?? 0)
      maxWaitSeconds = Math.max(maxWaitSeconds, Number(row.maxwait ?? 0))
    }
    const listCounts: Record<string, number> = {}
    for (const row of lists.rows as Array<{ list?: string; items?: string }>) {
      if (row.list) listCounts[row.list] = Number(row.items ?? 0)
    }
    clean = true
    return { clientsWaiting, maxWaitSeconds, lists: listCounts }
  } catch (err) {
    throw new Error(`${target} admin console: ${(err as Error).message}`)
  } finally {
    signal?.removeEventListener('abort', abort)
    if (clean) void client.end().catch(() => {})
    else destroyPgClient(client as unknown as PgClientLike)
  }
}

/** Each target answers the PostgreSQL protocol; at least min_up of them. */
export async function probePgbouncer(cfg: PgbouncerCheckConfig, timeoutMs: number, signal: AbortSignal): Promise<Finding> {
  const started = performance.now()
  const results = await Promise.allSettled(cfg.targets.map((t) => probeProtocol(t, timeoutMs, signal)))
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
    const pools = await Promise.allSettled(up.map((t) => readPools(t, cfg, left, signal)))
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
