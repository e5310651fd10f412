import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventIdTime, newEventId, openOutbox } from '../../src/outbox/index.js'
import { StorageError } from '../../src/errors/index.js'
import { fillUp, tinyTmpfs } from '../fixtures/disk.js'

t.test('ids sort in time order, carry their time, have no dots', async (t) => {
  const ids = Array.from({ length: 1000 }, () => newEventId())
  t.same([...ids].sort(), ids)
  t.equal(new Set(ids).size, ids.length)
  t.notOk(ids.some((id) => id.includes('.')))
  t.ok(Math.abs(eventIdTime(ids[0]!) - Date.now()) < 1000)
})

t.test('append writes one file per interested webhook and nothing else', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-outbox-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const outbox = openOutbox({ stateDir: dir, webhooks: [{ name: 'a' }, { name: 'b', events: ['check.failed'] }] })
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 's' } })
  t.same(readdirSync(join(dir, 'queue', 'a')), [`${ev.id}.json`])
  t.same(JSON.parse(readFileSync(join(dir, 'queue', 'a', `${ev.id}.json`), 'utf8')), ev)
  t.same(readdirSync(join(dir, 'queue')).sort(), ['.tmp', 'a'])
  t.same(readdirSync(join(dir, 'queue', '.tmp')), [], 'no temp file left behind')
})

t.test('a full disk is a StorageError naming the path; earlier events are intact', async (t) => {
  const mnt = tinyTmpfs(t, 'ha-agent-full-')
  const outbox = openOutbox({ stateDir: mnt, webhooks: [{ name: 'a' }] })
  const kept = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'kept' } })
  fillUp(mnt)
  const err = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x'.repeat(5000) } }).catch((e) => e)
  t.type(err, StorageError)
  t.match(err.message, new RegExp(`outbox: cannot store agent.test event at ${mnt}/queue/.*no space left on device \\(ENOSPC\\)`))
  t.same(readdirSync(join(mnt, 'queue', 'a')), [`${kept.id}.json`], 'only the earlier event, intact')
  t.same(JSON.parse(readFileSync(join(mnt, 'queue', 'a', `${kept.id}.json`), 'utf8')).data.state, 'kept')
  t.same(readdirSync(join(mnt, 'queue', '.tmp')), [], 'the half-written temp file was removed')
})

t.test('webhook names with a leading dot cannot escape the queue or hit the temp directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-outbox-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const outbox = openOutbox({ stateDir: dir, webhooks: [{ name: '..' }, { name: '.tmp' }, { name: 'ops.eu' }] })
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 's' } })
  t.same(readdirSync(join(dir, 'queue')).sort(), ['%2E.', '%2Etmp', '.tmp', 'ops.eu'])
  for (const d of ['%2E.', '%2Etmp', 'ops.eu']) t.same(readdirSync(join(dir, 'queue', d)), [`${ev.id}.json`], d)
  t.same(readdirSync(join(dir, 'queue', '.tmp')), [], 'the temp directory holds nothing')
  t.same(readdirSync(dir).sort(), ['queue'], 'nothing written beside the queue')
})
