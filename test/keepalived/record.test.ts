// recordVrrpTransition, the one way every path records a transition (notify,
// the daemon on its behalf, the FIFO reader): the event first, then the state
// file, an older fork never overwriting a newer state, the spool when state_dir
// cannot take the event.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readInstance, recordVrrpTransition, type Transition } from '../../src/keepalived/index.js'
import { eventIdMicros, newEventId } from '../../src/outbox/index.js'

const base = (t: { teardown(fn: () => unknown): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-record-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return { node: 'ha1', state_dir: join(dir, 'state'), runtime_dir: join(dir, 'run'), webhooks: [{ name: 'ops' }, { name: 'checks-only', events: ['check.failed'] }] }
}
const vrrp = (state: Transition['state'], priority: number | null = 100): Transition => ({ kind: 'INSTANCE', instance: 'VI_1', state, priority })
const queued = (stateDir: string, webhook: string) => readdirSync(join(stateDir, 'queue', webhook)).filter((n) => n.endsWith('.json'))

t.test('the event for the webhooks that want it, then the state; previous_state from the record', async (t) => {
  const config = base(t)
  const first = await recordVrrpTransition(config, vrrp('BACKUP'), newEventId(), 'notify')
  t.same([first.stored, first.problem], ['outbox', undefined])
  t.match(first.event, { type: 'vrrp.transition', data: { node: 'ha1', instance: 'VI_1', kind: 'INSTANCE', state: 'BACKUP', previous_state: null, priority: 100, source: 'notify' } })
  const second = await recordVrrpTransition(config, vrrp('MASTER'), newEventId(), 'fifo')
  t.match(second.event.data, { state: 'MASTER', previous_state: 'BACKUP', source: 'fifo' })
  t.same(queued(config.state_dir, 'ops').sort(), [`${first.event.id}.json`, `${second.event.id}.json`].sort())
  t.notOk(readdirSync(join(config.state_dir, 'queue')).includes('checks-only'), 'not for a webhook that wants other events')
  t.equal(readInstance(config.state_dir, 'VI_1')!.state, 'MASTER')
  t.equal(first.event.timestamp, new Date(Math.floor(eventIdMicros(first.event.id) / 1000)).toISOString(), "the timestamp is the id's time (the fork's)")
})

t.test('a fork older than the recorded state reports its event but leaves the newer state', async (t) => {
  const config = base(t)
  const older = newEventId()
  await recordVrrpTransition(config, vrrp('MASTER'), newEventId(), 'notify')
  const late = await recordVrrpTransition(config, vrrp('BACKUP'), older, 'notify')
  t.match(late, { stored: 'outbox', event: { id: older, data: { state: 'BACKUP', previous_state: null } } })
  t.equal(readInstance(config.state_dir, 'VI_1')!.state, 'MASTER')
})

t.test('a state_dir that cannot take the event: the spool under runtime_dir, with why', async (t) => {
  const config = base(t)
  writeFileSync(config.state_dir, '') // a file where the directory should be
  const r = await recordVrrpTransition(config, vrrp('FAULT'), newEventId(), 'notify')
  t.equal(r.stored, 'spool')
  t.match(r.problem, /^outbox: cannot store vrrp\.transition event at .*: not a directory \(ENOTDIR\); kept in .*\/run\/spool\/msg_[0-9a-f]+\.json until the daemon can move it \(lost at reboot\)$/)
  t.match(JSON.parse(readFileSync(join(config.runtime_dir, 'spool', `${r.event.id}.json`), 'utf8')), { id: r.event.id, data: { state: 'FAULT' } })
})

t.test('neither state_dir nor the spool can take it: the StorageError is thrown', async (t) => {
  const config = base(t)
  writeFileSync(config.state_dir, '')
  writeFileSync(config.runtime_dir, '')
  await t.rejects(recordVrrpTransition(config, vrrp('FAULT'), newEventId(), 'notify'), { code: 'HA_ERR_STORAGE', message: /in .*\/run\/spool either: not a directory \(ENOTDIR\)/ })
})
