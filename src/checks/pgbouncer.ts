import { connect } from 'node:net'
import type { PgbouncerCheckConfig } from '../config/index.js'
import type { Finding } from './deadline.js'

// Reachability is proven with the PostgreSQL SSLRequest: 8 bytes out, one byte
// ('S' or 'N') back. It needs no credentials, opens no server connection and no
// pool slot, and only a process that speaks the protocol answers it correctly;
// a plain TCP connect would pass for any listener on the port.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

export function probeProtocol(target: string, signal: AbortSignal): Promise<number> {
  const colon = target.lastIndexOf(':')
  const host = target.slice(0, colon).replace(/^\[|\]$/g, '')
  const port = Number(target.slice(colon + 1))
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port })
    const fail = (why: string) => {
      sock.destroy()
      reject(new Error(`${target}: ${why}`))
    }
    const onAbort = () => fail('no answer before the deadline')
    signal.addEventListener('abort', onAbort, { once: true })
    sock.on('connect', () => sock.write(SSL_REQUEST))
    sock.once('data', (buf: Buffer) => {
      signal.removeEventListener('abort', onAbort)
      const answer = String.fromCharCode(buf[0] ?? 0)
      sock.destroy()
      if (answer === 'N' || answer === 'S') resolve(performance.now() - started)
      else reject(new Error(`${target}: not the PostgreSQL protocol (answered 0x${(buf[0] ?? 0).toString(16)})`))
    })
    sock.on('end', () => fail('closed without answering'))
    sock.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
  })
}

interface PoolsSummary {
  clientsWaiting: number
  maxWaitSeconds: number
}

async function readPools(target: string, cfg: PgbouncerCheckConfig, timeoutMs: number): Promise<PoolsSummary> {
  const { default: pg } = await import('pg')
  const colon = target.lastIndexOf(':')
  const client = new pg.Client({
    host: target.slice(0, colon),
    port: Number(target.slice(colon + 1)),
    user: cfg.admin!.user,
    password: cfg.adminPassword,
    database: cfg.admin!.dbname,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    // The admin console speaks only the simple query protocol.
    const res = await client.query('SHOW POOLS;')
    let clientsWaiting = 0
    let maxWaitSeconds = 0
    for (const row of res.rows as Array<Record<string, string>>) {
      clientsWaiting += Number(row.cl_waiting ?? 0)
      maxWaitSeconds = Math.max(maxWaitSeconds, Number(row.maxwait ?? 0))
    }
    return { clientsWaiting, maxWaitSeconds }
  } finally {
    void client.end().catch(() => {})
  }
}

/** Each target answers the PostgreSQL protocol; at least min_up of them. */
export async function probePgbouncer(cfg: PgbouncerCheckConfig, timeoutMs: number, signal: AbortSignal): Promise<Finding> {
  const results = await Promise.allSettled(cfg.targets.map((t) => probeProtocol(t, signal)))
  const up: string[] = []
  const down: string[] = []
  results.forEach((r, i) => (r.status === 'fulfilled' ? up : down).push(r.status === 'fulfilled' ? cfg.targets[i]! : (r.reason as Error).message))
  const data: Record<string, unknown> = { up: up.length, total: cfg.targets.length, min_up: cfg.min_up, down }
  let waiting = ''
  if (cfg.admin && up.length > 0) {
    const pools = await Promise.allSettled(up.map((t) => readPools(t, cfg, timeoutMs)))
    const ok = pools.filter((p): p is PromiseFulfilledResult<PoolsSummary> => p.status === 'fulfilled').map((p) => p.value)
    const clientsWaiting = ok.reduce((s, p) => s + p.clientsWaiting, 0)
    data.clients_waiting = clientsWaiting
    data.max_wait_seconds = Math.max(0, ...ok.map((p) => p.maxWaitSeconds))
    const failed = pools.find((p): p is PromiseRejectedResult => p.status === 'rejected')
    if (failed) data.admin_error = (failed.reason as Error).message
    waiting = `, ${clientsWaiting} clients waiting`
  }
  const summary = `${up.length}/${cfg.targets.length} PgBouncers answer (need ${cfg.min_up})${waiting}`
  if (up.length < cfg.min_up) return { ok: false, detail: `${summary}: ${down.join('; ')}`, data }
  return { ok: true, detail: down.length ? `${summary}; down: ${down.join('; ')}` : summary, data }
}
