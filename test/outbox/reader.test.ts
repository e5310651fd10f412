import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newEventId, oldestEvents } from '../../src/outbox/index.js'
import { countEvents } from '../../src/outbox/reader.js'

t.test('the oldest names in order, the count of all, other files ignored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-reader-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const ids = Array.from({ length: 1500 }, () => newEventId())
  // Written in a shuffled order: the directory order must not matter.
  const shuffled = [...ids].sort(() => Math.random() - 0.5)
  for (const id of shuffled) writeFileSync(join(dir, `${id}.json`), '{}')
  writeFileSync(join(dir, '.head-state'), '{}')
  writeFileSync(join(dir, 'x.json.tmp'), '')
  const w = oldestEvents(dir, 100)
  t.equal(w.total, 1500)
  t.same(w.names, ids.slice(0, 100).map((id) => `${id}.json`))
  t.same(oldestEvents(dir, 5000).names.length, 1500, 'a window larger than the queue holds it all')
  t.same(oldestEvents(dir, 0), { names: [], total: 1500 }, 'limit 0 only counts')
  t.same(oldestEvents(join(dir, 'missing'), 10), { names: [], total: 0 }, 'a missing queue is empty')
})

t.test('countEvents: the .json files only; 0 for a queue that is not there or cannot be read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-count-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, `${newEventId()}.json`), '{}')
  writeFileSync(join(dir, '.head-state'), '{}')
  t.equal(countEvents(dir), 3)
  t.equal(countEvents(join(dir, 'missing')), 0)
  writeFileSync(join(dir, 'file'), '')
  t.equal(countEvents(join(dir, 'file')), 0, 'a file where the queue should be (ENOTDIR)')
})
