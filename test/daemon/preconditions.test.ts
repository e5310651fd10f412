// What a node must show to take the VIP over (switchover's target, the peer
// left serving during maintenance): from its /status, every reason named.
import t from 'tap'
import { canServe, holdsAll, refusal } from '../../src/daemon/preconditions.js'
import type { PeerView } from '../../src/cluster/index.js'

const ready = (over: Partial<PeerView> = {}): PeerView => ({
  url: 'https://10.0.1.22:9471',
  node: 'ha2',
  reachable: true,
  healthy: true,
  fault: false,
  haproxy_up: true,
  keepalived_up: true,
  maintenance: { on: false, since: null, reason: null },
  yielding: false,
  checks: [
    { name: 'haproxy', status: 'pass', detail: 'ok' },
    { name: 'postgres', status: 'pass', detail: 'ok' },
  ],
  instances: [{ name: 'VI_1', state: 'BACKUP', priority: 249, since: '' }],
  ...over,
})

t.test('a ready BACKUP can serve; yielding is fine either way', async (t) => {
  t.same(canServe(ready()), { ok: true, problems: [] })
  t.same(canServe(ready({ yielding: true })), { ok: true, problems: [] })
  t.same(canServe(ready({ instances: [{ name: 'VI_1', state: 'MASTER', priority: 249, since: '' }] })).ok, true)
})

t.test('each thing that is wrong is named', async (t) => {
  t.same(canServe(ready({ reachable: false, error: 'ECONNREFUSED' })).problems, ['its API does not answer (ECONNREFUSED)'])
  t.same(canServe(ready({ maintenance: { on: true, since: 'x', reason: 'kernel' }, fault: true })).problems, ['it is in maintenance (kernel)'], 'its FAULT is the maintenance')
  t.same(canServe(ready({ haproxy_up: false, fault: true })).problems, ['its HAProxy does not answer'])
  t.same(canServe(ready({ fault: true })).problems, ['its track_file says FAULT'])
  t.same(canServe(ready({ keepalived_up: false })).problems, ['its keepalived is not running'])
  t.same(canServe(ready({ checks: [{ name: 'pgbouncer', status: 'fail', detail: '0/3 up' }, { name: 'postgres', status: 'pass', detail: '' }] })).problems, ['failing there: pgbouncer (0/3 up)'])
  t.same(canServe(ready({ checks: [] })).problems, ['no deep check has run there yet'])
  t.same(canServe(ready({ instances: [] })).problems, ['its keepalived has reported no VRRP instance'])
  t.same(canServe(ready({ instances: [{ name: 'VI_1', state: 'FAULT', priority: 0, since: '' }] })).problems, ['VI_1 is FAULT there'])
  const many = canServe(ready({ haproxy_up: false, checks: [{ name: 'haproxy', status: 'fail', detail: 'gone' }] }))
  t.equal(many.problems.length, 2)
  t.equal(refusal(ready(), many), 'ha2 cannot take the VIP: its HAProxy does not answer; failing there: haproxy (gone)')
})

t.test('a peer older than these fields: judged by its checks and track_file', async (t) => {
  const old = ready()
  delete old.haproxy_up
  delete old.keepalived_up
  delete old.maintenance
  delete old.yielding
  t.same(canServe(old), { ok: true, problems: [] })
})

t.test('holdsAll: every instance MASTER; none known is no', async (t) => {
  t.ok(holdsAll([{ state: 'MASTER' }, { state: 'MASTER' }]))
  t.notOk(holdsAll([{ state: 'MASTER' }, { state: 'BACKUP' }]))
  t.notOk(holdsAll([]))
  t.notOk(holdsAll(undefined))
})
