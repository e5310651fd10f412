import t from 'tap'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { currentInstances, readInstance, readInstances, recordTransition, stateAfter, writeInstance } from '../../src/keepalived/index.js'
import { StorageError } from '../../src/errors/index.js'

t.test('records per instance, returns the previous state, keeps since and priority', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-vrrp-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const at1 = new Date('2026-11-25T10:00:00Z')
  const at2 = new Date('2026-11-25T10:00:03Z')
  t.equal(recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_1', state: 'BACKUP', priority: 100 }, at1), null)
  t.equal(recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 100 }, at2), 'BACKUP')
  t.equal(recordTransition(dir, { kind: 'GROUP', instance: 'G/1', state: 'FAULT', priority: null }, at2), null, 'names with a slash are files too')
  t.match(readInstances(dir), [
    { name: 'G/1', kind: 'GROUP', state: 'FAULT', priority: null },
    { name: 'VI_1', state: 'MASTER', priority: 100, since: at2.toISOString() },
  ])
})

t.test('a transition forked earlier than the recorded one does not overwrite it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-vrrp-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const at = new Date()
  recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 100 }, at, 2000)
  t.equal(recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_1', state: 'BACKUP', priority: 100 }, at, 1000), null)
  t.equal(readInstance(dir, 'VI_1')!.state, 'MASTER')
})


t.test('a record that cannot be replaced is a StorageError naming it; no temp file is left', async (t) => {
  // (A full disk: test/integration/disk-full.test.ts.)
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-vrrp-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'vrrp', 'VI_1.json'), { recursive: true })
  const err = (() => {
    try {
      writeInstance(dir, stateAfter({ kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 100 }, new Date()))
    } catch (e) {
      return e
    }
  })()
  t.type(err, StorageError)
  t.match(err, { code: 'HA_ERR_STORAGE', message: /^cannot record VRRP state at .*\/vrrp\/VI_1\.json: is a directory \(EISDIR\)$/ })
  t.same(readdirSync(join(dir, 'vrrp')), ['VI_1.json'])
})

t.test('currentInstances: read again when the directory changed, trusted only once its mtime is older than the coarse clock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-vrrp-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.same(currentInstances(dir), [], 'no vrrp/ yet: none')
  recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_1', state: 'BACKUP', priority: 100 })
  t.match(currentInstances(dir), [{ name: 'VI_1', state: 'BACKUP' }])
  // a change right after a read (within the same clock tick) is seen at the next call
  recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 100 })
  t.match(currentInstances(dir), [{ name: 'VI_1', state: 'MASTER' }], 'a change seen at once')
  await new Promise((r) => setTimeout(r, 120))
  const a = currentInstances(dir)
  const b = currentInstances(dir)
  t.equal(a, b, 'an unchanged directory read long after its last change: the same list, not read again')
  recordTransition(dir, { kind: 'INSTANCE', instance: 'VI_2', state: 'FAULT', priority: null })
  t.same(currentInstances(dir).map((i) => i.name), ['VI_1', 'VI_2'], 'a new instance: read again')
})
