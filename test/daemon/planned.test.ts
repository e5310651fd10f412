// Which transitions an operator asked for (injected clock).
import t from 'tap'
import { plannedNow, PLANNED_AFTER_MS } from '../../src/daemon/planned.js'
import { MAINTENANCE_OFF } from '../../src/keepalived/index.js'

t.test('a hand-over, and a few seconds after it: switchover; maintenance: maintenance; else nothing', async (t) => {
  const now = 1_000_000
  t.equal(plannedNow({ handover: undefined, handoverEndedAt: 0, maintenance: MAINTENANCE_OFF }, now), undefined)
  t.equal(plannedNow({ handover: { to: 'ha2', since: now }, handoverEndedAt: 0, maintenance: MAINTENANCE_OFF }, now), 'switchover')
  t.equal(plannedNow({ handover: undefined, handoverEndedAt: now - PLANNED_AFTER_MS + 1, maintenance: MAINTENANCE_OFF }, now), 'switchover', "the old holder's FAULT and BACKUP notifies arrive late")
  t.equal(plannedNow({ handover: undefined, handoverEndedAt: now - PLANNED_AFTER_MS, maintenance: MAINTENANCE_OFF }, now), undefined)
  t.equal(plannedNow({ handover: undefined, handoverEndedAt: 0, maintenance: { on: true, since: null, reason: null } }, now), 'maintenance')
})
