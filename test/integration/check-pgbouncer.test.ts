// The PgBouncer check against three real PgBouncers: the SSLRequest answered,
// SHOW POOLS / SHOW LISTS read from the admin console. (Stand-ins that answer
// or misbehave, and min_up: test/checks/pgbouncer.test.ts.)
import t from 'tap'
import { buildConfig } from '../../src/config/index.js'
import { probeProtocol, probePgbouncer } from '../../src/checks/pgbouncer.js'
import { startStack } from '../fixtures/stack.js'

const stack = await startStack(t)
const targets = stack.pgbouncers.map((p) => `127.0.0.1:${p.port}`)

function pgbouncerConfig(section: Record<string, unknown>) {
  const cfg = buildConfig({ checks: { pgbouncer: section } }, null, { env: {} }).checks.pgbouncer
  if (!cfg) throw new Error('no pgbouncer section')
  return cfg
}
const noSignal = () => new AbortController().signal

t.test('a real PgBouncer answers the SSLRequest', async (t) => {
  const ms = await probeProtocol(targets[0]!, 1000)
  t.ok(ms >= 0 && ms < 1000)
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
