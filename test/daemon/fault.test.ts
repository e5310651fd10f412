// The track_file rule, case by case (README: "When does a node declare a fault?").
import t from 'tap'
import { decideFault } from '../../src/daemon/fault.js'
import type { Verdict } from '../../src/checks/index.js'
import type { PeerView } from '../../src/cluster/index.js'

const verdict = (...failing: string[]): Verdict => ({
  healthy: failing.length === 0,
  checks: ['haproxy', 'pgbouncer', 'postgres', 'system'].map((name) => ({ name: name as 'haproxy', status: failing.includes(name) ? 'fail' : 'pass', latencyMs: 1, detail: 'd', checkedAt: '' })),
  checkedAt: '',
  source: 'daemon',
})
const peer = (failing: string[] = [], extra: Partial<PeerView> = {}): PeerView => ({
  url: 'http://p:9471',
  node: 'peer',
  reachable: true,
  checks: ['pgbouncer', 'postgres'].map((name) => ({ name, status: failing.includes(name) ? 'fail' : 'pass', detail: '' })),
  fault: false,
  ...extra,
})
const up = { up: true, detail: 'ok' }

t.test('HAProxy not answered yet: pending, nothing written', async (t) => {
  t.match(decideFault({ haproxy: undefined, verdict: verdict(), peers: [] }), { fault: false, pending: true, checkExit: 0 })
})

t.test('HAProxy gone: fault, whatever else', async (t) => {
  t.match(decideFault({ haproxy: { up: false, detail: 'closed' }, verdict: verdict(), peers: [peer()] }), { fault: true, haproxyGone: true, checkExit: 1, reason: 'HAProxy gone: closed' })
})

t.test('all pass: no fault', async (t) => {
  t.match(decideFault({ haproxy: up, verdict: verdict(), peers: [] }), { fault: false, checkExit: 0, reason: 'healthy' })
  t.match(decideFault({ haproxy: null, verdict: verdict(), peers: [] }), { fault: false, checkExit: 0 }, 'HAProxy not configured')
})

t.test('a deep check fails here, no peer answers: weight only', async (t) => {
  t.match(decideFault({ haproxy: up, verdict: verdict('postgres'), peers: [] }), { fault: false, checkExit: 1 })
  t.match(decideFault({ haproxy: up, verdict: verdict('postgres'), peers: [peer([], { reachable: false })] }), { fault: false, checkExit: 1 })
})

t.test('fails here, passes on a reachable peer: relative fault', async (t) => {
  t.match(decideFault({ haproxy: up, verdict: verdict('pgbouncer'), peers: [peer()] }), { fault: true, relative: true, checkExit: 1, reason: /pgbouncer fails here but passes on peer/ })
})

t.test('a peer in FAULT itself is no better', async (t) => {
  t.match(decideFault({ haproxy: up, verdict: verdict('pgbouncer'), peers: [peer([], { fault: true })] }), { fault: false, checkExit: 0, shared: ['pgbouncer'] })
})

t.test('fails here and on every reachable peer: shared, exit 0, no fault', async (t) => {
  t.match(decideFault({ haproxy: up, verdict: verdict('postgres'), peers: [peer(['postgres'])] }), { fault: false, checkExit: 0, shared: ['postgres'] })
})

t.test('the system check never makes a fault by itself', async (t) => {
  t.match(decideFault({ haproxy: up, verdict: verdict('system'), peers: [peer()] }), { fault: false, checkExit: 0 })
})

t.test('decideTrack: maintenance and a hand-over say FAULT whatever the health; check exits by health', async (t) => {
  const { decideTrack } = await import('../../src/daemon/fault.js')
  const base = { haproxy: up, verdict: verdict(), peers: [peer()] }
  t.same(decideTrack({ ...base, operator: {} }), decideFault(base), 'nothing asked: the health rule')
  t.same(decideTrack({ ...base, operator: { maintenance: { on: false, reason: 'x' } } }), decideFault(base))
  t.match(decideTrack({ ...base, operator: { maintenance: { on: true, reason: 'kernel' } } }), { fault: true, operator: 'maintenance', reason: 'maintenance: kernel', checkExit: 0 })
  t.match(decideTrack({ ...base, operator: { handoverTo: 'ha2' } }), { fault: true, operator: 'switchover', reason: 'switchover: handing the VIP over to ha2' })
  const both = decideTrack({ ...base, operator: { maintenance: { on: true, reason: null }, handoverTo: 'ha2' } })
  t.match(both, { operator: 'maintenance', reason: 'maintenance' }, 'maintenance says why first')
  const pending = decideTrack({ haproxy: undefined, verdict: undefined, peers: [], operator: { maintenance: { on: true, reason: null } } })
  t.match(pending, { fault: true, operator: 'maintenance' })
  t.notOk(pending.pending, 'written before HAProxy answers: after a reboot keepalived must read 1')
  const relative = decideTrack({ haproxy: up, verdict: verdict('pgbouncer'), peers: [peer()], operator: { maintenance: { on: true, reason: null } } })
  t.notOk(relative.relative, 'no relative fault to confirm')
  t.equal(relative.checkExit, 1, 'check still says the deep check fails')
})
