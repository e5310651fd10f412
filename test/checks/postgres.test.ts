// SELECT 1 through HAProxy -> PgBouncer -> PostgreSQL, and the two ways a query
// can hang: a server that never finishes the handshake, and a query that never ends.
import t from 'tap'
import { buildConfig } from '../../src/config/index.js'
import { probePostgres } from '../../src/checks/postgres.js'
import { startStack } from '../fixtures/stack.js'
import { freePort, misbehavingServer, waitFor } from '../fixtures/procs.js'

const stack = await startStack(t)
const never = await misbehavingServer(0, () => {})
t.teardown(() => never.close())

function postgresConfig(section: Record<string, unknown>) {
  const cfg = buildConfig({ checks: { postgres: section } }, null, { env: {} }).checks.postgres
  if (!cfg) throw new Error('no postgres section')
  return cfg
}
const noSignal = () => new AbortController().signal
const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length

t.test('SELECT 1 through the HAProxy frontend', async (t) => {
  const f = await probePostgres(postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.haproxy.port}/postgres` }), 3000, noSignal())
  t.equal(f.ok, true, f.detail)
  t.equal(f.detail, `SELECT 1 via 127.0.0.1:${stack.haproxy.port}: 1 row(s)`)
})

t.test('a query that never ends fails at the deadline and its connection is dropped', async (t) => {
  const before = openSockets()
  const cfg = postgresConfig({ url: `postgres://postgres@127.0.0.1:${stack.pg.port}/postgres`, query: 'SELECT pg_sleep(30)' })
  const started = performance.now()
  const f = await probePostgres(cfg, 500, noSignal())
  const took = performance.now() - started
  t.equal(f.ok, false)
  t.equal(f.detail, `SELECT pg_sleep(30) via 127.0.0.1:${stack.pg.port}: no answer within 500 ms`)
  t.ok(took < 500 + 150, `gave up after ${took.toFixed(0)} ms`)
  // The server is still sleeping and would never say goodbye: the socket must be destroyed, not ended.
  await new Promise((r) => setImmediate(r))
  t.equal(openSockets(), before, 'no socket left open')
})

t.test('a server that accepts and never answers: connect timeout, socket dropped', async (t) => {
  const before = openSockets()
  const started = performance.now()
  const f = await probePostgres(postgresConfig({ url: `postgres://monitor@127.0.0.1:${never.port}/postgres` }), 300, noSignal())
  const took = performance.now() - started
  t.equal(f.ok, false)
  t.match(f.detail, new RegExp(`^SELECT 1 via 127\\.0\\.0\\.1:${never.port}: .*(timeout|terminated)`, 'i'))
  t.ok(took < 300 + 150, `gave up after ${took.toFixed(0)} ms`)
  // The never-answering server lives in this process: its side closes once it sees ours go.
  await waitFor('both ends closed', () => openSockets() === before || undefined, 2000, 10).catch(() => {})
  t.equal(openSockets(), before, 'no socket left open')
})

t.test('refused, wrong database, failing query: reasons from the server', async (t) => {
  const port = await freePort()
  const refused = await probePostgres(postgresConfig({ url: `postgres://monitor@127.0.0.1:${port}/postgres` }), 1000, noSignal())
  t.match(refused, { ok: false, data: { code: 'ECONNREFUSED' } })
  t.match(refused.detail, new RegExp(`via 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))
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
  const started = performance.now()
  const f = await probePostgres(cfg, 10_000, ac.signal)
  t.equal(f.ok, false)
  t.ok(performance.now() - started < 1000, 'did not wait for the query timeout')
})
