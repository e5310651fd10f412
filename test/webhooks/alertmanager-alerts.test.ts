// The alerts themselves: labels that route well in Alertmanager, whatever made them.
import t from 'tap'
import { alertKey } from '../../src/webhooks/alertmanager-alerts.js'
import { changesForEvent } from '../../src/webhooks/alertmanager-changes.js'
import { empty, ev, T0, vrrp } from '../fixtures/alert-model.js'

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
