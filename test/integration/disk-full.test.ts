// What a full state_dir does to each durable writer (a 64 KiB tmpfs: root
// only): a StorageError naming the path, the earlier record intact, no temp
// file left, and the spool under runtime_dir keeping what could not be stored.
// (`ha-agent notify` on a full or read-only disk: notify-disk.test.ts.)
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StorageError } from '../../src/errors/index.js'
import { readInstance, recordTransition, stateAfter, writeInstance } from '../../src/keepalived/index.js'
import { drainSpool, openOutbox, spoolEvent } from '../../src/outbox/index.js'
import { fillUp, tinyTmpfs } from '../fixtures/disk.js'

const tmp = (t: { teardown(fn: () => unknown): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-disk-full-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('VRRP state store: a full disk is a StorageError; the old record stays and no temp file is left', async (t) => {
  const dir = tinyTmpfs(t, 'ha-agent-vrrp-full-')
  recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_1', state: 'BACKUP', priority: 100 })
  fillUp(dir)
  const err = (() => {
    try {
      writeInstance(dir, stateAfter({ kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 100 }, new Date()))
    } catch (e) {
      return e
    }
  })()
  t.type(err, StorageError)
  t.match((err as Error).message, /cannot record VRRP state at .*VI_1\.json: .*ENOSPC/)
  t.equal(readInstance(dir, 'VI_1')!.state, 'BACKUP')
  t.same(readdirSync(join(dir, 'vrrp')), ['VI_1.json'])
})

t.test('outbox: a full disk is a StorageError naming the path; earlier events are intact', async (t) => {
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

t.test('the spool keeps what a full state_dir cannot take; once there is room, draining moves it in, oldest first', async (t) => {
  const state = tinyTmpfs(t, 'ha-agent-spool-state-')
  const run = tmp(t)
  const outbox = openOutbox({ stateDir: state, webhooks: [{ name: 'a' }] })
  fillUp(state)
  const ids: string[] = []
  for (const s of ['MASTER', 'BACKUP']) {
    const err = await outbox.append({ type: 'vrrp.transition', data: { state: s } }).catch((e) => e)
    t.type(err, StorageError, 'the full disk refuses')
    ids.push(spoolEvent(run, { type: 'vrrp.transition', data: { state: s } }).event.id)
  }
  t.same(readdirSync(join(run, 'spool')).sort(), ids.map((id) => `${id}.json`))
  const stuck = await drainSpool(run, outbox)
  t.same([stuck.moved.length, stuck.left], [0, 2])
  t.match(stuck.error, /ENOSPC/)
  rmSync(join(state, 'filler'), { recursive: true })
  const drained = await drainSpool(run, outbox)
  t.same(drained.moved.map((e) => e.id), ids, 'oldest first, with their ids')
  t.same(readdirSync(join(state, 'queue', 'a')).sort(), ids.map((id) => `${id}.json`))
  t.same(readdirSync(join(run, 'spool')), [])
})

