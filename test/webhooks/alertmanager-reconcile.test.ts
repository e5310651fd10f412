// The book of firing alerts against what holds now (the daemon's conditions).
import t from 'tap'
import { TEST_ALERT_MS } from '../../src/webhooks/alertmanager-alerts.js'
import { changesForEvent } from '../../src/webhooks/alertmanager-changes.js'
import { reconcile } from '../../src/webhooks/alertmanager-reconcile.js'
import { deliver, empty, ev, iso, matchList, T0, vrrp } from '../fixtures/alert-model.js'

t.test('reconcile: VRRP alerts follow the state store, once it is as new as the events delivered', async (t) => {
  const book = deliver(empty, changesForEvent(empty, vrrp('FAULT', T0), T0))
  const seen = new Map([['VI_1', T0]])
  const base = { nowMs: T0 + 60_000, node: 'ha1', idle: true, vrrpSeen: seen }
  t.same(reconcile(book, { node: 'ha1', vrrp: [{ instance: 'VI_1', state: 'FAULT', since: iso(T0) }] }, base).changes, [], 'holds: nothing to change')
  t.same(reconcile(book, { node: 'ha1', vrrp: [{ instance: 'VI_1', state: 'BACKUP', since: iso(T0 - 1000) }] }, base).changes, [],
    'the state file is older than the FAULT delivered (notify writes the event first): not trusted yet')
  const ended = reconcile(book, { node: 'ha1', vrrp: [{ instance: 'VI_1', state: 'MASTER', since: iso(T0 + 5000) }] }, base).changes
  matchList(t, ended, [{ op: 'resolve', alert: { labels: { alertname: 'HaAgentVrrpFault' } }, endsAt: iso(T0 + 60_000) }], 'MASTER while nobody sent the event: resolved now')
  t.same(reconcile(book, { node: 'ha1', vrrp: [] }, base).changes, [], 'no record at all but an event seen: not trusted')
  matchList(t, reconcile(book, { node: 'ha1', vrrp: [] }, { ...base, vrrpSeen: new Map() }).changes, [{ op: 'resolve' }], 'the instance is gone')
  t.same(reconcile(book, {}, base).changes, [], 'no conditions: nothing changes')
  matchList(t, reconcile(book, { node: 'ha2' }, base).changes, [{ op: 'resolve' }], 'alerts of another node name (renamed) end')
})

t.test('reconcile: conditions fire what holds but was never sent, only when no event waits', async (t) => {
  const c = { node: 'ha1', vrrp: [{ instance: 'VI_2', state: 'FAULT', since: iso(T0 - 7000) }] }
  const fired = reconcile(empty, c, { nowMs: T0, node: 'x', idle: true }).changes
  matchList(t, fired, [{ op: 'fire', alert: { labels: { alertname: 'HaAgentVrrpFault', node: 'ha1', vrrp_instance: 'VI_2' }, startsAt: iso(T0 - 7000) } }])
  t.same(reconcile(empty, c, { nowMs: T0, node: 'x', idle: false }).changes, [], 'events are queued: they come first, in order')
  t.same(reconcile(empty, c, { nowMs: T0, node: 'x', idle: true, vrrpSeen: new Map([['VI_2', T0 - 1000]]) }).changes, [],
    'a newer transition (MASTER) was delivered than the state file says: wait for the file')
})

t.test('reconcile: checks by what the debouncer established; unknown status changes nothing', async (t) => {
  const book = deliver(empty, changesForEvent(empty, ev('check.failed', { check: 'postgres', detail: 'refused' }), T0))
  const o = { nowMs: T0 + 1000, node: 'ha1', idle: true }
  t.same(reconcile(book, { node: 'ha1', checks: [{ name: 'postgres', status: undefined }] }, o).changes, [], 'just started: not established yet')
  t.same(reconcile(book, { node: 'ha1', checks: [{ name: 'postgres', status: 'fail' }] }, o).changes, [])
  matchList(t, reconcile(book, { node: 'ha1', checks: [{ name: 'postgres', status: 'pass' }] }, o).changes, [{ op: 'resolve' }], 'recovered while nobody said so')
  matchList(t, reconcile(book, { node: 'ha1', checks: [] }, o).changes, [{ op: 'resolve' }], 'no longer configured')
  matchList(t, reconcile(empty, { node: 'ha1', checks: [{ name: 'haproxy', status: 'fail', detail: 'gone' }] }, o).changes,
    [{ op: 'fire', alert: { labels: { alertname: 'HaAgentCheckFailing', check: 'haproxy' }, annotations: { description: /gone/ } } }])
})

t.test('reconcile: split brain from the reporting node; resolved once no peer is MASTER with us', async (t) => {
  const o = { nowMs: T0, node: 'ha1', idle: true }
  const reported = { reported: [{ instance: 'VI_1', peers: ['ha2'], since: iso(T0 - 4000) }], suspected: ['VI_1'] }
  const fired = reconcile(empty, { node: 'ha1', splitBrain: reported }, o).changes
  matchList(t, fired, [{ op: 'fire', alert: { labels: { alertname: 'HaAgentSplitBrain', vrrp_instance: 'VI_1', node: 'ha1' }, startsAt: iso(T0 - 4000) } }])
  const book = deliver(empty, fired)
  t.same(reconcile(book, { node: 'ha1', splitBrain: reported }, o).changes, [])
  t.same(reconcile(book, { node: 'ha1', splitBrain: { reported: [], suspected: ['VI_1'] } }, o).changes, [], 'both still MASTER: holds')
  matchList(t, reconcile(book, { node: 'ha1', splitBrain: { reported: [], suspected: [] } }, o).changes, [{ op: 'resolve' }])
  t.same(reconcile(book, { node: 'ha1' }, o).changes, [], 'peers not polled yet: unknown')
})

t.test('reconcile: dead letters fire and resolve from counts alone; the count in the summary follows', async (t) => {
  const o = { nowMs: T0, node: 'ha1', idle: false }
  const fired = reconcile(empty, { deadLetters: [{ webhook: 'ops', count: 2 }, { webhook: 'am', count: 0 }] }, o).changes
  matchList(t, fired, [{ op: 'fire', alert: { labels: { alertname: 'HaAgentDeadLetters', node: 'ha1', webhook: 'ops', severity: 'warning' }, annotations: { summary: '2 dead letters for webhook ops on ha1' } } }],
    'even with events queued (dead letters have none); the node from the options when the conditions give none')
  const book = deliver(empty, fired)
  const more = reconcile(book, { deadLetters: [{ webhook: 'ops', count: 3 }] }, { ...o, nowMs: T0 + 60_000 }).changes
  matchList(t, more, [{ op: 'fire', alert: { startsAt: iso(T0), annotations: { summary: /^3 dead letters/ } } }])
  matchList(t, reconcile(book, { deadLetters: [{ webhook: 'ops', count: 0 }] }, o).changes, [{ op: 'resolve' }])
  matchList(t, reconcile(book, { deadLetters: [] }, o).changes, [{ op: 'resolve' }], 'the webhook is gone')
})

t.test('reconcile: timed alerts expire, unwanted kinds end, changed webhook labels relabel', async (t) => {
  const book = deliver(empty, [...changesForEvent(empty, ev('agent.test', {}), T0), ...changesForEvent(empty, vrrp('FAULT'), T0, { pair: 'a' })])
  const r = reconcile(book, {}, { nowMs: T0 + TEST_ALERT_MS, node: 'ha1', idle: true, extra: { pair: 'a' } })
  t.equal(r.expired.length, 1, 'the test alert is over')
  t.same(r.changes, [])
  const unwanted = reconcile(book, {}, { nowMs: T0, node: 'ha1', idle: true, extra: { pair: 'a' }, events: ['check.failed'] })
  matchList(t, unwanted.changes, [{ op: 'resolve', alert: { labels: { alertname: 'HaAgentVrrpFault' } } }], 'the webhook no longer wants vrrp.transition')
  const relabel = reconcile(book, {}, { nowMs: T0 + 1000, node: 'ha1', idle: true, extra: { pair: 'b' } }).changes
  matchList(t, relabel, [
    { op: 'resolve', alert: { labels: { pair: 'a' } } },
    { op: 'fire', alert: { labels: { alertname: 'HaAgentVrrpFault', pair: 'b' }, startsAt: iso(T0) } },
  ])
})

t.test('reconcile: a node in maintenance (or handing the VIP over) is in FAULT on purpose: no FAULT alert; the maintenance alert follows', async (t) => {
  const c = { node: 'ha1', vrrp: [{ instance: 'VI_1', state: 'FAULT', since: iso(T0 - 7000) }], maintenance: { on: true, since: iso(T0 - 8000), reason: 'kernel' }, planned: true }
  const fired = reconcile(empty, c, { nowMs: T0, node: 'x', idle: true }).changes
  matchList(t, fired, [{ op: 'fire', alert: { labels: { alertname: 'HaAgentMaintenance' }, startsAt: iso(T0 - 8000) } }], 'only the maintenance alert')
  const faulted = deliver(empty, changesForEvent(empty, vrrp('FAULT', T0 - 7000), T0 - 7000))
  matchList(t, reconcile(faulted, c, { nowMs: T0, node: 'x', idle: true }).changes.filter((ch) => ch.op === 'resolve'), [{ alert: { labels: { alertname: 'HaAgentVrrpFault' } } }],
    'a FAULT alert fired before maintenance was known ends')
  const book = deliver(empty, fired)
  matchList(t, reconcile(book, { ...c, maintenance: { on: false }, planned: false, vrrp: [{ instance: 'VI_1', state: 'BACKUP', since: iso(T0) }] }, { nowMs: T0 + 1000, node: 'x', idle: true }).changes, [{ op: 'resolve', alert: { labels: { alertname: 'HaAgentMaintenance' } } }])
  t.same(reconcile(book, { node: 'ha1' }, { nowMs: T0 + 1000, node: 'x', idle: true }).changes, [], 'maintenance not known: nothing changes')
})
