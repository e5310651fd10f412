// The PgBouncer check against three real PgBouncers, and against servers that
// misbehave: one that accepts and never answers, one that speaks another protocol.
import t from 'tap'
import { buildConfig } from '../../src/config/index.js'
import { probeProtocol, probePgbouncer, splitHostPort } from '../../src/checks/pgbouncer.js'
import { startStack } from '../fixtures/stack.js'
import { freePort, misbehavingServer } from '../fixtures/procs.js'

const stack = await startStack(t)
const targets = stack.pgbouncers.map((p) => `127.0.0.1:${p.port}`)
const never = await misbehavingServer(0, () => {})
const http = await misbehavingServer(0, (c) => c.once('data', () => c.end('HTTP/1.1 400 Bad Request\r\n\r\n')))
t.teardown(() => Promise.all([never.close(), http.close()]))

function pgbouncerConfig(section: Record<string, unknown>) {
  const cfg = buildConfig({ checks: { pgbouncer: section } }, null, { env: {} }).checks.pgbouncer
  if (!cfg) throw new Error('no pgbouncer section')
  return cfg
}
const noSignal = () => new AbortController().signal

t.test('host:port with IPv6 brackets', async (t) => {
  t.same(splitHostPort('127.0.0.1:6432'), { host: '127.0.0.1', port: 6432 })
  t.same(splitHostPort('[::1]:6433'), { host: '::1', port: 6433 })
})

t.test('a real PgBouncer answers the SSLRequest', async (t) => {
  const ms = await probeProtocol(targets[0]!, 1000)
  t.ok(ms >= 0 && ms < 1000)
})

t.test('each way of not being PgBouncer is a reason naming the target', async (t) => {
  const closed = `127.0.0.1:${await freePort()}`
  await t.rejects(probeProtocol(closed, 1000), new RegExp(`^${closed}: ECONNREFUSED$`))
  await t.rejects(probeProtocol(`127.0.0.1:${http.port}`, 1000), /: not the PostgreSQL protocol \(answered 0x48\)/)
  const started = performance.now()
  await t.rejects(probeProtocol(`127.0.0.1:${never.port}`, 300), new RegExp(`127\\.0\\.0\\.1:${never.port}: no answer within 300 ms`))
  const took = performance.now() - started
  t.ok(took >= 290 && took < 600, `gave up after ${took.toFixed(0)} ms`)
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  await t.rejects(probeProtocol(`127.0.0.1:${never.port}`, 5000, ac.signal), /no answer before the deadline/)
})

t.test('min_up counts answering targets; the down ones are named', async (t) => {
  const hung = `127.0.0.1:${never.port}`
  const cfg = pgbouncerConfig({ targets: [targets[0], hung, `127.0.0.1:${http.port}`], min_up: 1 })
  const one = await probePgbouncer(cfg, 400, noSignal())
  t.equal(one.ok, true)
  t.match(one.detail, /^1\/3 PgBouncers answer \(need 1\); down: /)
  t.match(one.detail, `${hung}: no answer within 400 ms`)
  t.match(one.data, { up: 1, total: 3, min_up: 1, answering: [targets[0]] })
  const two = await probePgbouncer(pgbouncerConfig({ targets: cfg.targets, min_up: 2 }), 400, noSignal())
  t.equal(two.ok, false)
  t.match(two.detail, /^1\/3 PgBouncers answer \(need 2\): /)
})

t.test('with admin configured: SHOW POOLS / SHOW LISTS are read and clients waiting reported', async (t) => {
  const cfg = pgbouncerConfig({ targets, min_up: 3, admin: { user: 'monitor' } })
  const f = await probePgbouncer(cfg, 2000, noSignal())
  t.equal(f.ok, true, f.detail)
  t.match(f.detail, /^3\/3 PgBouncers answer \(need 3\), 0 clients waiting$/)
  t.match(f.data, { clients_waiting: 0, max_wait_seconds: 0 })
  const pools = f.data!.pools as Record<string, { lists: Record<string, number> }>
  t.same(Object.keys(pools), targets)
  t.type(pools[targets[0]!]!.lists.used_clients, 'number', 'SHOW LISTS counters as numbers')
  t.ok(pools[targets[0]!]!.lists.used_clients! >= 1, 'our own admin connection is a used client')
})

t.test('admin login refused: reachability still decides, the admin error is reported', async (t) => {
  const cfg = pgbouncerConfig({ targets: [targets[0]], min_up: 1, admin: { user: 'nobody_here' } })
  const f = await probePgbouncer(cfg, 2000, noSignal())
  t.equal(f.ok, true)
  t.match(f.detail, /SHOW POOLS unreadable/)
  t.match((f.data!.admin_errors as string[])[0], new RegExp(`^${targets[0]} admin console: `))
})
