import t, { type Test } from 'tap'
import {
  ALERTNAMES, ENDS_AFTER_INTERVALS, TEST_ALERT_MS, alertKey, applyChanges, changesForEvent, postableAlerts, reconcile,
  vrrpEventTime, type AlertEvent, type Book, type Change,
} from '../../src/webhooks/alertmanager-alerts.js'

const T0 = Date.parse('2026-03-01T10:00:00.000Z')
const iso = (ms: number) => new Date(ms).toISOString()
const vrrp = (state: string, at = T0, instance = 'VI_1'): AlertEvent => ({
  id: `msg_${at}`,
  type: 'vrrp.transition',
  timestamp: iso(at),
  data: { node: 'ha1', instance, kind: 'INSTANCE', state, previous_state: null, priority: 100, source: 'notify' },
})
const ev = (type: string, data: Record<string, unknown>, at = T0): AlertEvent => ({ id: `msg_${type}_${at}`, type, timestamp: iso(at), data: { node: 'ha1', ...data } })
const empty: Book = new Map()
const deliver = (book: Book, changes: Change[]) => applyChanges(book, changes)
const summary = (changes: Change[]) => changes.map((c) => `${c.op} ${c.alert.labels.alertname}`)
/** t.match lets an array have more elements than the pattern: these must be exactly as many */
const matchList = (t: Test, actual: unknown[], pattern: unknown[], msg?: string) => {
  t.equal(actual.length, pattern.length, `${msg ?? 'changes'}: how many`)
  t.match(actual, pattern, msg ?? 'changes')
}

t.test('FAULT fires HaAgentVrrpFault with exactly its labels; the stopped alert is resolved beside it', async (t) => {
  const changes = changesForEvent(empty, vrrp('FAULT'), T0)
  t.same(summary(changes), [`fire ${ALERTNAMES.vrrpFault}`, `resolve ${ALERTNAMES.vrrpStopped}`])
  const fire = changes[0]!
  t.same(fire.alert.labels, { alertname: 'HaAgentVrrpFault', node: 'ha1', vrrp_instance: 'VI_1', severity: 'warning' })
  t.equal(fire.alert.startsAt, iso(T0))
  t.match(fire.alert.annotations, { summary: 'VI_1 is in FAULT on ha1', description: /priority 100/ })
  const resolve = changes[1]!
  t.equal(resolve.op, 'resolve')
  // Not in the book: resolved all the same (Alertmanager merges it into a firing one, or ignores it).
  t.match(resolve, { alert: { startsAt: iso(T0) }, endsAt: iso(T0) })
})

t.test('MASTER resolves the FAULT it follows, with the time it began; a repeated FAULT keeps that time', async (t) => {
  let book = deliver(empty, changesForEvent(empty, vrrp('FAULT', T0), T0))
  const again = changesForEvent(book, vrrp('FAULT', T0 + 5000), T0 + 5000)
  t.equal(again[0]!.alert.startsAt, iso(T0), 'the same condition, still the time it began')
  book = deliver(book, again)
  const master = changesForEvent(book, vrrp('MASTER', T0 + 60_000), T0 + 60_000)
  t.same(summary(master), [`resolve ${ALERTNAMES.vrrpFault}`, `resolve ${ALERTNAMES.vrrpStopped}`])
  t.match(master[0], { op: 'resolve', alert: { startsAt: iso(T0) }, endsAt: iso(T0 + 60_000) })
  t.equal(deliver(book, master).size, 0, 'nothing fires after MASTER')
  for (const state of ['BACKUP', 'DELETED']) {
    t.same(changesForEvent(book, vrrp(state, T0 + 1), T0).map((c) => c.op), ['resolve', 'resolve'], `${state} resolves too`)
  }
})

t.test('STOP fires HaAgentVrrpStopped and ends a FAULT; BACKUP ends it', async (t) => {
  let book = deliver(empty, changesForEvent(empty, vrrp('FAULT'), T0))
  const stop = changesForEvent(book, vrrp('STOP', T0 + 1000), T0)
  t.same(summary(stop), [`fire ${ALERTNAMES.vrrpStopped}`, `resolve ${ALERTNAMES.vrrpFault}`])
  t.same(stop[0]!.alert.labels, { alertname: 'HaAgentVrrpStopped', node: 'ha1', vrrp_instance: 'VI_1', severity: 'warning' })
  book = deliver(book, stop)
  t.same([...book.values()].map((a) => a.labels.alertname), ['HaAgentVrrpStopped'])
  book = deliver(book, changesForEvent(book, vrrp('BACKUP', T0 + 2000), T0))
  t.equal(book.size, 0)
})

t.test('checks, split brain, flap damping, test; heartbeats are no alert', async (t) => {
  const failed = changesForEvent(empty, ev('check.failed', { check: 'pgbouncer', detail: '0/3 up' }), T0)
  t.same(failed[0]!.alert.labels, { alertname: 'HaAgentCheckFailing', node: 'ha1', check: 'pgbouncer', severity: 'warning' })
  t.match(failed[0]!.alert.annotations.description, /0\/3 up/)
  const book = deliver(empty, failed)
  const recovered = changesForEvent(book, ev('check.recovered', { check: 'pgbouncer', detail: '3/3 up' }, T0 + 9000), T0)
  matchList(t, recovered, [{ op: 'resolve', key: failed[0]!.key, endsAt: iso(T0 + 9000) }])

  const sb = changesForEvent(empty, ev('cluster.split_brain', { instance: 'VI_1', peers: ['ha2'], since: iso(T0 - 3000) }), T0)
  t.same(sb[0]!.alert.labels, { alertname: 'HaAgentSplitBrain', node: 'ha1', vrrp_instance: 'VI_1', severity: 'critical' })
  t.equal(sb[0]!.alert.startsAt, iso(T0 - 3000), 'from when both became MASTER')
  t.match(sb[0]!.alert.annotations.summary, 'MASTER on ha1 and ha2')
  const sbResolved = changesForEvent(deliver(empty, sb), ev('cluster.split_brain_resolved', { instance: 'VI_1', peers: ['ha2'] }, T0 + 1000), T0)
  matchList(t, sbResolved, [{ op: 'resolve', key: sb[0]!.key }])

  const flap = changesForEvent(empty, ev('cluster.flap_damped', { reason: 'haproxy flapping' }), T0)
  matchList(t, flap, [{ op: 'fire', alert: { labels: { alertname: 'HaAgentFlapDamped', severity: 'warning' }, until: T0 + 15 * 60_000 } }])

  const test = changesForEvent(empty, ev('agent.test', { state: 'test' }, T0 - 3_600_000), T0)
  matchList(t, test, [{ op: 'fire', alert: { labels: { alertname: 'HaAgentTest', severity: 'info', test_id: `msg_agent.test_${T0 - 3_600_000}` }, startsAt: iso(T0), until: T0 + TEST_ALERT_MS } }],
    'a test queued an hour ago still fires from now, for 5 minutes')

  t.same(changesForEvent(empty, ev('agent.heartbeat', { state: 'ok' }), T0), [])
})

t.test('labels route well: never `instance`, every name valid for Alertmanager, webhook labels on every alert', async (t) => {
  const extra = { pair: 'pg-main' }
  const events = [vrrp('FAULT'), vrrp('STOP'), ev('check.failed', { check: 'postgres' }), ev('cluster.split_brain', { instance: 'VI_1', peers: ['ha2'] }), ev('cluster.flap_damped', {}), ev('agent.test', {})]
  for (const e of events) {
    for (const c of changesForEvent(empty, e, T0, extra)) {
      t.notOk('instance' in c.alert.labels, `${c.alert.labels.alertname}: no instance label`)
      t.ok(Object.keys(c.alert.labels).every((k) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)), 'valid label names')
      t.ok(Object.values(c.alert.labels).every((v) => v !== ''), 'no empty label (Alertmanager drops them, and the identity with them)')
      t.equal(c.alert.labels.pair, 'pg-main')
      t.type(c.alert.annotations.summary, 'string')
      t.type(c.alert.annotations.description, 'string')
    }
  }
  t.equal(alertKey({ b: '1', a: '2' }), alertKey({ a: '2', b: '1' }), 'keys do not depend on label order')
})

t.test('a resolve never ends before its alert starts (Alertmanager answers 400)', async (t) => {
  const book = deliver(empty, changesForEvent(empty, vrrp('FAULT', T0 + 10_000), T0))
  // an out-of-order clock: the MASTER event is stamped before the FAULT
  const master = changesForEvent(book, vrrp('MASTER', T0), T0)
  t.match(master[0], { op: 'resolve', endsAt: iso(T0 + 10_000) })
})

t.test('what is sent: firing alerts end 4 intervals ahead, timed ones at their end, resolved at the event', async (t) => {
  const book = deliver(empty, [...changesForEvent(empty, vrrp('FAULT'), T0), ...changesForEvent(empty, ev('agent.test', {}), T0)])
  const now = T0 + 30_000
  const alerts = postableAlerts([], now, 60_000, book)
  t.equal(alerts.length, 2)
  const fault = alerts.find((a) => a.labels.alertname === 'HaAgentVrrpFault')!
  t.same(fault, { labels: fault.labels, annotations: fault.annotations, startsAt: iso(T0), endsAt: iso(now + ENDS_AFTER_INTERVALS * 60_000) })
  t.equal(alerts.find((a) => a.labels.alertname === 'HaAgentTest')!.endsAt, iso(T0 + TEST_ALERT_MS))
  t.equal(postableAlerts([], T0 + TEST_ALERT_MS + 1, 60_000, book).length, 1, 'a timed alert past its end is not sent again')
  const resolve = changesForEvent(book, vrrp('MASTER', T0 + 1000), now)
  const sent = postableAlerts(resolve, now, 60_000)
  t.same(sent.map((a) => a.endsAt), [iso(T0 + 1000), iso(T0 + 1000)])
  t.equal(postableAlerts(resolve, now, 60_000, book).length, 3, 'with the book: the changes, then the other firing alerts once each')
})

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

t.test('vrrpEventTime', async (t) => {
  t.same(vrrpEventTime(vrrp('FAULT')), { instance: 'VI_1', at: T0 })
  t.equal(vrrpEventTime(ev('check.failed', {})), undefined)
})
