// SELECT 1 through HAProxy -> PgBouncer -> PostgreSQL, a query that never ends
// (directly and through transaction pooling), and the server's own errors. (A
// server that never finishes the handshake: test/checks/postgres.test.ts.)
import t from 'tap'
import { buildConfig } from '../../src/config/index.js'
import { probePostgres } from '../../src/checks/postgres.js'
import { PgSessionHolder } from '../../src/checks/pg-held.js'
import { startStack } from '../fixtures/stack.js'
import { waitFor } from '../fixtures/procs.js'

const stack = await startStack(t)

function postgresConfig(section: Record<string, unknown>) {
  const cfg = buildConfig({ checks: { postgres: section } }, null, { env: {} }).checks.postgres
  if (!cfg) throw new Error('no postgres section')
  return cfg
}
const noSignal = () => new AbortController().signal
async function sleepingBackends(): Promise<number> {
  const { default: pg } = await import('pg')
  const c = new pg.Client({ host: '127.0.0.1', port: stack.pg.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 })
  await c.connect()
  try {
    const r = await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")
    return r.rows[0].n as number
  } finally {
    await c.end()
  }
}
const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length

t.test('SELECT 1 through the HAProxy frontend', async (t) => {
  const f = await probePostgres(postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.haproxy.port}/postgres` }), 3000, noSignal())
  t.equal(f.ok, true, f.detail)
  t.equal(f.detail, `SELECT 1 via 127.0.0.1:${stack.haproxy.port}: 1 row(s)`)
})

t.test('a query that never ends fails at the deadline and its connection is dropped', async (t) => {
  const before = openSockets()
  const cfg = postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.pg.port}/postgres`, query: 'SELECT pg_sleep(30)' })
  const f = await probePostgres(cfg, 500, noSignal())
  t.equal(f.ok, false)
  // our deadline's words (pg's own would differ, the server's statement_timeout says 57014)
  t.equal(f.detail, `SELECT pg_sleep(30) via 127.0.0.1:${stack.pg.port}: no answer within 500 ms`)
  // The server would never say goodbye while sleeping: the socket must be destroyed, not ended.
  await new Promise((r) => setImmediate(r))
  t.equal(openSockets(), before, 'no socket left open')
  // ...and the server stopped the query itself (SET LOCAL statement_timeout): no backend sleeps on.
  const still = await waitFor(
    'the sleeping backend to go',
    async () => ((await sleepingBackends()) === 0 ? 'gone' : undefined),
    5000,
    50,
  ).catch(() => 'still running')
  t.equal(still, 'gone', 'pg_sleep(30) was cancelled by the server')
})

t.test('through PgBouncer (transaction pooling) too, and the next check is clean', async (t) => {
  const viaBouncer = `postgres://postgres@127.0.0.1:${stack.pgbouncers[0]!.port}/postgres`
  const f = await probePostgres(postgresConfig({ url: viaBouncer, query: 'SELECT pg_sleep(30)' }), 500, noSignal())
  t.equal(f.detail, `SELECT pg_sleep(30) via 127.0.0.1:${stack.pgbouncers[0]!.port}: no answer within 500 ms`)
  await waitFor('the sleeping backend to go', async () => ((await sleepingBackends()) === 0 ? true : undefined), 5000, 50)
  // SET LOCAL died with its transaction: a plain check on the same pool has no timeout left over.
  const next = await probePostgres(postgresConfig({ url: viaBouncer }), 2000, noSignal())
  t.equal(next.ok, true, next.detail)
  const { default: pg } = await import('pg')
  const c = new pg.Client({ connectionString: viaBouncer, connectionTimeoutMillis: 2000 })
  await c.connect()
  t.teardown(() => c.end())
  t.equal((await c.query('SHOW statement_timeout')).rows[0].statement_timeout, '0', 'no statement_timeout left on the pooled server connection')
})

t.test('wrong database, failing query: reasons from the server', async (t) => {
  const noDb = await probePostgres(postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.pg.port}/nosuchdb` }), 2000, noSignal())
  t.match(noDb, { ok: false, data: { code: '3D000' } })
  t.match(noDb.detail, /database "nosuchdb" does not exist/)
  const bad = await probePostgres(postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.pg.port}/postgres`, query: 'SELECT 1/0' }), 2000, noSignal())
  t.match(bad.detail, /SELECT 1\/0 via .*division by zero/)
})

t.test('an abort from the caller tears the connection down at once', async (t) => {
  const ac = new AbortController()
  const cfg = postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.pg.port}/postgres`, query: 'SELECT pg_sleep(30)' })
  setTimeout(() => ac.abort(), 200)
  const f = await probePostgres(cfg, 60_000, ac.signal)
  t.equal(f.ok, false)
  t.equal(f.detail, `SELECT pg_sleep(30) via 127.0.0.1:${stack.pg.port}: no answer before the deadline`, 'the abort ended it, not a timeout')
})

// The daemon's held session (src/checks/pg-held.ts): one backend for many rounds,
// a new one when it is old or gone, and never a pass from a session that did not answer.
const direct = () => ({ connectionString: `postgres://postgres@127.0.0.1:${stack.pg.port}/postgres` })
const backendPid = async (s: { query(text: string): Promise<unknown> }) => ((await s.query('SELECT pg_backend_pid() AS pid')) as { rows: Array<{ pid: number }> }).rows[0]!.pid
async function adminQuery(text: string): Promise<void> {
  const { default: pg } = await import('pg')
  const c = new pg.Client({ ...direct(), connectionTimeoutMillis: 2000 })
  await c.connect()
  try {
    await c.query(text)
  } finally {
    await c.end()
  }
}

t.test('held: one backend for many rounds; a new one after reconnect_interval_ms', async (t) => {
  const held = new PgSessionHolder()
  t.teardown(() => held.close())
  const pids = []
  for (let i = 0; i < 4; i++) pids.push(await held.run(direct(), 2000, 30_000, undefined, backendPid))
  t.equal(new Set(pids).size, 1, `the same backend every round (${pids.join(', ')})`)
  const short = new PgSessionHolder()
  t.teardown(() => short.close())
  const a = await short.run(direct(), 2000, 100, undefined, backendPid)
  await new Promise((r) => setTimeout(r, 150))
  const b = await short.run(direct(), 2000, 100, undefined, backendPid)
  t.not(a, b, 'a new session once the held one was 100 ms old')
  // the probe on a holder: the same SELECT 1 through HAProxy -> PgBouncer -> PostgreSQL
  const probe = new PgSessionHolder()
  t.teardown(() => probe.close())
  const cfg = postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.haproxy.port}/postgres` })
  for (let i = 0; i < 3; i++) {
    const f = await probePostgres(cfg, 2000, noSignal(), probe)
    t.equal(f.detail, `SELECT 1 via 127.0.0.1:${stack.haproxy.port}: 1 row(s)`)
  }
})

t.test('held: a session the server terminated between rounds is replaced within the same round', async (t) => {
  const held = new PgSessionHolder()
  t.teardown(() => held.close())
  const first = await held.run(direct(), 2000, 30_000, undefined, backendPid)
  await adminQuery(`SELECT pg_terminate_backend(${first})`)
  await new Promise((r) => setTimeout(r, 100))
  const second = await held.run(direct(), 2000, 30_000, undefined, backendPid)
  t.not(second, first, 'answered by a new backend')
  // terminated while idle and not yet noticed: the round still answers on a new session
  await adminQuery(`SELECT pg_terminate_backend(${second})`)
  const third = await held.run(direct(), 2000, 30_000, undefined, backendPid)
  t.not(third, second)
})

t.test('held: a frozen backend fails the round at the deadline; the next round is a new session', async (t) => {
  const held = new PgSessionHolder()
  t.teardown(() => held.close())
  const pid = await held.run(direct(), 2000, 30_000, undefined, backendPid)
  process.kill(pid, 'SIGSTOP')
  t.teardown(async () => {
    process.kill(pid, 'SIGCONT')
    await adminQuery(`SELECT pg_terminate_backend(${pid})`).catch(() => {})
  })
  const started = performance.now()
  const err = await held.run(direct(), 400, 30_000, undefined, backendPid).catch((e) => e)
  t.equal(err.message, 'no answer within 400 ms', 'the deadline, not a pass')
  t.ok(performance.now() - started >= 390)
  const next = await held.run(direct(), 2000, 30_000, undefined, backendPid)
  t.not(next, pid, 'not the frozen backend again')
})

t.test('held: through a PgBouncer that restarts, the next round is answered on a new session', async (t) => {
  const held = new PgSessionHolder()
  t.teardown(() => held.close())
  const bouncer = stack.pgbouncers[1]!
  const via = { connectionString: `postgres://postgres@127.0.0.1:${bouncer.port}/postgres` }
  await held.run(via, 2000, 30_000, undefined, async (s) => s.query('SELECT 1'))
  await bouncer.kill()
  await t.rejects(held.run(via, 500, 30_000, undefined, async (s) => s.query('SELECT 1')), /ECONNREFUSED|no connection within/, 'PgBouncer gone: the round fails, the held session does not pass')
  await bouncer.start()
  await held.run(via, 2000, 30_000, undefined, async (s) => s.query('SELECT 1'))
  t.pass('answered after the restart')
})

t.test('held: PostgreSQL stopped: every round fails until it is back', async (t) => {
  const held = new PgSessionHolder()
  t.teardown(() => held.close())
  await held.run(direct(), 2000, 30_000, undefined, backendPid)
  await stack.pg.kill()
  const err = await held.run(direct(), 1000, 30_000, undefined, backendPid).catch((e) => e)
  t.match(err.message ?? err.code, /ECONNREFUSED|terminat|shut|no connection/, `failed: ${err.message}`)
  await stack.pg.start()
  t.ok((await held.run(direct(), 3000, 30_000, undefined, backendPid)) > 0, 'a new session once it is back')
})
