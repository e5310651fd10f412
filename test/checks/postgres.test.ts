// The PostgreSQL check against servers that are not there or never answer.
// (SELECT 1 through a real HAProxy -> PgBouncer -> PostgreSQL, and queries that
// never end: test/integration/check-postgres.test.ts.)
import t from 'tap'
import { buildConfig } from '../../src/config/index.js'
import { probePostgres } from '../../src/checks/postgres.js'
import { freePort, misbehavingServer, waitFor } from '../fixtures/procs.js'

// reads and discards (so it sees our side close) and never answers
const never = await misbehavingServer(0, (c) => c.resume())
t.teardown(() => never.close())

function postgresConfig(section: Record<string, unknown>) {
  const cfg = buildConfig({ checks: { postgres: section } }, null, { env: {} }).checks.postgres
  if (!cfg) throw new Error('no postgres section')
  return cfg
}
const noSignal = () => new AbortController().signal
const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length

t.test('a server that accepts and never answers: connect timeout, socket dropped', async (t) => {
  const before = openSockets()
  const f = await probePostgres(postgresConfig({ url: `postgres://monitor@127.0.0.1:${never.port}/postgres` }), 300, noSignal())
  t.equal(f.ok, false)
  t.equal(f.detail, `SELECT 1 via 127.0.0.1:${never.port}: no connection within 300 ms`)
  t.same(f.data, { target: `127.0.0.1:${never.port}` }, 'a timeout has no server code')
  // The never-answering server lives in this process: its side closes once it sees ours go.
  await waitFor('both ends closed', () => openSockets() === before || undefined, 5000, 10).catch(() => {})
  t.equal(openSockets(), before, 'no socket left open')
})

t.test('an abort from the caller ends it at once, whatever the deadline', async (t) => {
  const ac = new AbortController()
  const pending = probePostgres(postgresConfig({ url: `postgres://monitor@127.0.0.1:${never.port}/postgres` }), 60_000, ac.signal)
  setTimeout(() => ac.abort(), 20)
  const f = await pending
  t.equal(f.detail, `SELECT 1 via 127.0.0.1:${never.port}: no answer before the deadline`)
})

t.test('refused: the reason and its code', async (t) => {
  const port = await freePort()
  const refused = await probePostgres(postgresConfig({ url: `postgres://monitor@127.0.0.1:${port}/postgres` }), 1000, noSignal())
  t.match(refused, { ok: false, data: { target: `127.0.0.1:${port}`, code: 'ECONNREFUSED' } })
  t.match(refused.detail, new RegExp(`^SELECT 1 via 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))
})
