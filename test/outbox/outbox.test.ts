import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventIdTime, newEventId, openOutbox, spoolEvent, drainSpool, updateFullMarker, outboxFullReason } from '../../src/outbox/index.js'
import { StorageError } from '../../src/errors/index.js'

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
  t.same(readdirSync(join(dir, 'ledger')), [`${ev.id}.json`], 'the ledger remembers the id')
})

t.test('webhook names with a leading dot cannot escape the queue or hit the temp directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-outbox-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const outbox = openOutbox({ stateDir: dir, webhooks: [{ name: '..' }, { name: '.tmp' }, { name: 'ops.eu' }] })
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 's' } })
  t.same(readdirSync(join(dir, 'queue')).sort(), ['%2E.', '%2Etmp', '.tmp', 'ops.eu'])
  for (const d of ['%2E.', '%2Etmp', 'ops.eu']) t.same(readdirSync(join(dir, 'queue', d)), [`${ev.id}.json`], d)
  t.same(readdirSync(join(dir, 'queue', '.tmp')), [], 'the temp directory holds nothing')
  t.same(readdirSync(dir).sort(), ['ledger', 'queue'], 'nothing written beside the queue and the ledger')
})

const tmp = (t: { teardown(fn: () => unknown): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-outbox-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('an id counts once: a second copy is refused, also after the first was delivered', async (t) => {
  const dir = tmp(t)
  const outbox = openOutbox({ stateDir: dir, webhooks: [{ name: 'a' }, { name: 'b' }] })
  const id = newEventId()
  const first = await outbox.append({ id, type: 'agent.test', data: { node: 'n', state: 'first' } })
  const again = await outbox.append({ id, type: 'agent.test', data: { node: 'n', state: 'second' } })
  t.equal(again.id, first.id)
  t.same(readdirSync(join(dir, 'queue', 'a')), [`${id}.json`])
  t.equal(JSON.parse(readFileSync(join(dir, 'queue', 'a', `${id}.json`), 'utf8')).data.state, 'first', 'the first copy stands')
  // Delivered everywhere (the dispatcher removes the queue files), then the late copy arrives.
  unlinkSync(join(dir, 'queue', 'a', `${id}.json`))
  unlinkSync(join(dir, 'queue', 'b', `${id}.json`))
  await outbox.append({ id, type: 'agent.test', data: { node: 'n', state: 'late' } })
  t.same(readdirSync(join(dir, 'queue', 'a')), [], 'not queued again')
})

t.test('two processes appending the same id at once leave one copy per queue', async (t) => {
  const dir = tmp(t)
  const id = newEventId()
  const { spawn } = await import('node:child_process')
  const script = `import('${new URL('../../src/outbox/index.js', import.meta.url).href}').then(async (m) => { const o = m.openOutbox({ stateDir: ${JSON.stringify(dir)}, webhooks: [{ name: 'a' }] }); for (let i = 0; i < 50; i++) await o.append({ id: '${id}'.slice(0, -2) + String(i).padStart(2, '0'), type: 'agent.test', data: { pid: process.pid } }) })`
  const run = () =>
    new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: 'inherit' })
      c.on('exit', resolve)
    })
  t.same(await Promise.all([run(), run()]), [0, 0])
  const queued = readdirSync(join(dir, 'queue', 'a'))
  t.equal(queued.length, 50, 'fifty ids, each once')
  t.same(readdirSync(join(dir, 'queue', '.tmp')), [])
})

t.test('the full marker refuses appends with its reason; removed, appends work again', async (t) => {
  const dir = tmp(t)
  const outbox = openOutbox({ stateDir: dir, webhooks: [{ name: 'a' }] })
  await outbox.append({ type: 'agent.test', data: {} })
  const reason = updateFullMarker(dir, { bytes: 300 * 2 ** 20, orphaned: [] }, 256 * 2 ** 20)
  t.match(reason, /outbox\.max_bytes reached \(300\.0 MiB of 256\.0 MiB/)
  t.equal(outboxFullReason(dir), reason)
  const err = await outbox.append({ type: 'agent.test', data: {} }).catch((e) => e)
  t.type(err, StorageError)
  t.match(err.message, /outbox: cannot store agent\.test event msg_[0-9a-f]+: outbox\.max_bytes reached/)
  t.equal(updateFullMarker(dir, { bytes: 1, orphaned: [] }, 256 * 2 ** 20), null)
  t.equal(outboxFullReason(dir), undefined)
  await outbox.append({ type: 'agent.test', data: {} })
  t.equal(readdirSync(join(dir, 'queue', 'a')).length, 2)
})


t.test('draining the spool moves its events in, once, oldest first; an unreadable file is put aside', async (t) => {
  const state = tmp(t)
  const run = tmp(t)
  const outbox = openOutbox({ stateDir: state, webhooks: [{ name: 'a' }] })
  const ids = ['MASTER', 'BACKUP'].map((s) => spoolEvent(run, { type: 'vrrp.transition', data: { state: s } }).event.id)
  t.same(readdirSync(join(run, 'spool')).sort(), ids.map((id) => `${id}.json`))
  const drained = await drainSpool(run, outbox)
  t.same(drained.moved.map((e) => e.id), ids, 'oldest first, with their ids')
  t.same([drained.left, drained.error], [0, undefined])
  t.same(readdirSync(join(state, 'queue', 'a')).sort(), ids.map((id) => `${id}.json`))
  t.same(readdirSync(join(run, 'spool')), [])
  // A spooled event that was recorded meanwhile (by another path) is not recorded twice.
  const dup = spoolEvent(run, { id: ids[0], type: 'vrrp.transition', data: { state: 'MASTER' } })
  for (const n of readdirSync(join(state, 'queue', 'a'))) unlinkSync(join(state, 'queue', 'a', n))
  await drainSpool(run, outbox)
  t.same(readdirSync(join(state, 'queue', 'a')), [], `${dup.event.id} was already in the ledger`)
  t.same(readdirSync(join(run, 'spool')), [], 'and it left the spool')
  // An unreadable spool file is put aside and reported, not retried forever.
  const garbage = `${newEventId()}.json`
  writeFileSync(join(run, 'spool', garbage), 'garbage')
  const bad = await drainSpool(run, outbox)
  t.match(bad.error, /not JSON.*kept as .*\.bad/)
  t.same(readdirSync(join(run, 'spool')).filter((n) => n.endsWith('.json')), [], 'not tried again')
})
