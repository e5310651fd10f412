// The event types and VRRP states are a contract with receivers: the lists in
// src/events are the ones the docs promise, and the ones the outbox's record
// parser and the control socket accept (anything else is refused).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { EVENT_TYPES, VRRP_STATES } from '../../src/events/index.js'
import { parseEventRecord } from '../../src/outbox/record.js'
import { parseControlRequest } from '../../src/control/index.js'
import { parseNotifyArgs } from '../../src/keepalived/notify-args.js'

const webhooksDoc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8')

t.test('the event types are those docs/webhooks.md lists, each once', async (t) => {
  // "Every event (`vrrp.transition`, `check.failed`, ..., `cluster.split_brain[_resolved]`, ...)"
  const listed = /^Every event \(([^)]*)\)/m.exec(webhooksDoc)![1]!
  const documented = [...listed.matchAll(/`([a-z_.]+)(\[_resolved\])?`/g)].flatMap((m) => (m[2] ? [m[1]!, `${m[1]}_resolved`] : [m[1]!]))
  t.same([...EVENT_TYPES].sort(), documented.sort())
  t.equal(new Set(EVENT_TYPES).size, EVENT_TYPES.length)
})

t.test('the VRRP states are those keepalived passes and the docs list for HA_AGENT_STATE', async (t) => {
  t.same([...VRRP_STATES], ['MASTER', 'BACKUP', 'FAULT', 'STOP', 'DELETED'])
  t.match(webhooksDoc, VRRP_STATES.map((s) => `\`${s}\``).join('/'))
  for (const s of VRRP_STATES) t.match(parseNotifyArgs(['INSTANCE', 'VI_1', s, '100']), { state: s }, `notify takes ${s}`)
  t.throws(() => parseNotifyArgs(['INSTANCE', 'VI_1', 'UNKNOWN']), /is not a VRRP state \(MASTER, BACKUP, FAULT, STOP, DELETED\)/)
})

t.test('a stored event is one of these types, or it is not an event', async (t) => {
  const record = (type: string) => JSON.stringify({ id: 'msg_0123456789abcdef01234567', type, timestamp: new Date().toISOString(), data: {} })
  for (const type of EVENT_TYPES) t.match(parseEventRecord(record(type)), { ok: true, event: { type } }, type)
  t.match(parseEventRecord(record('vrrp.transitions')), { ok: false, reason: /^not an event: type: / })
})

t.test('the control socket takes a transition in one of these states only', async (t) => {
  const notify = (state: string) => ({
    op: 'notify',
    id: 'msg_0123456789abcdef01234567',
    pid: 4242,
    configPath: '/etc/ha-agent/config.yaml',
    transition: { kind: 'INSTANCE', instance: 'VI_1', state, priority: 100 },
  })
  for (const s of VRRP_STATES) t.match(parseControlRequest(notify(s)), { ok: true }, s)
  t.match(parseControlRequest(notify('master')), { ok: false })
})
