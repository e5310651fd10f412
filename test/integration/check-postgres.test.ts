// SELECT 1 through HAProxy -> PgBouncer -> PostgreSQL, a query that never ends
// (directly and through transaction pooling), and the server's own errors. (A
// server that never finishes the handshake: test/checks/postgres.test.ts.)
import t from 'tap'
import { buildConfig } from '../../src/config/index.js'
import { probePostgres } from '../../src/checks/postgres.js'
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
