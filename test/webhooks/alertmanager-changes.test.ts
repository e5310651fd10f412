// What an event changes in the book of firing alerts, and what is sent.
import t from 'tap'
import { ALERTNAMES, ENDS_AFTER_INTERVALS, TEST_ALERT_MS } from '../../src/webhooks/alertmanager-alerts.js'
import { changesForEvent, postableAlerts, vrrpEventTime } from '../../src/webhooks/alertmanager-changes.js'
import { deliver, empty, ev, iso, matchList, summary, T0, vrrp } from '../fixtures/alert-model.js'

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

t.test('vrrpEventTime', async (t) => {
  t.same(vrrpEventTime(vrrp('FAULT')), { instance: 'VI_1', at: T0 })
  t.equal(vrrpEventTime(ev('check.failed', {})), undefined)
})

t.test('maintenance fires HaAgentMaintenance (info) and off resolves it; a planned FAULT fires no FAULT alert; a switchover changes nothing', async (t) => {
  const on = changesForEvent(empty, ev('agent.maintenance', { on: true, reason: 'kernel', since: iso(T0 - 1000) }), T0)
  matchList(t, on, [{ op: 'fire', alert: { labels: { alertname: 'HaAgentMaintenance', node: 'ha1', severity: 'info' }, startsAt: iso(T0 - 1000), annotations: { summary: 'ha1 is in maintenance: kernel' } } }])
  const book = deliver(empty, on)
  matchList(t, changesForEvent(book, ev('agent.maintenance', { on: false, reason: 'kernel' }, T0 + 5000), T0 + 5000), [{ op: 'resolve', endsAt: iso(T0 + 5000) }])
  const planned = { ...vrrp('FAULT'), data: { ...vrrp('FAULT').data, planned: 'maintenance' } }
  t.same(summary(changesForEvent(empty, planned, T0)), [`resolve ${ALERTNAMES.vrrpStopped}`], 'no HaAgentVrrpFault')
  t.same(changesForEvent(empty, ev('vrrp.switchover', { from: 'ha1', to: 'ha2' }), T0), [])
})
