// What keeps the outbox bounded: pruning by age, the size measure, orphaned queues.
import t from 'tap'
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { measureOutbox, openOutbox, pruneOutbox, WebhookQueue, LEDGER_KEEP_MS } from '../../src/outbox/index.js'

const DAY = 86_400_000

function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-maint-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('dead letters past dead_letter_max_age, old ledger entries and stray temp files go; the rest stays', async (t) => {
  const dir = setup(t)
  const outbox = openOutbox({ stateDir: dir, webhooks: [{ name: 'ops' }] })
  const a = await outbox.append({ type: 'agent.test', data: {} })
  const b = await outbox.append({ type: 'agent.test', data: {} })
  const q = new WebhookQueue(dir, 'ops')
  const now = Date.now()
  q.deadLetter(q.head()!, 'HTTP 410', 1, now - 8 * DAY)
  q.deadLetter(q.head()!, 'HTTP 410', 1, now - 1 * DAY)
  const stray = join(dir, 'queue', '.tmp', 'msg_x.123.json')
  writeFileSync(stray, 'half')
  utimesSync(stray, new Date(now - 2 * 3_600_000), new Date(now - 2 * 3_600_000))
  const fresh = join(dir, 'queue', '.tmp', 'msg_y.456.json')
  writeFileSync(fresh, 'being written right now')
  mkdirSync(join(dir, 'vrrp'))
  const strayState = join(dir, 'vrrp', 'VI_1.json.999.tmp')
  writeFileSync(strayState, '{')
  utimesSync(strayState, new Date(now - 2 * 3_600_000), new Date(now - 2 * 3_600_000))

  const r = await pruneOutbox(dir, { deadMaxAgeMs: 7 * DAY, now })
  t.same(r, { dead: 1, ledger: 0, tmp: 2 })
  t.same(readdirSync(join(dir, 'dead', 'ops')).sort(), [`${b.id}.json`, `${b.id}.meta`], 'the younger dead letter stays')
  t.same(readdirSync(join(dir, 'queue', '.tmp')), ['msg_y.456.json'], 'a temp file being written stays')
  t.same(readdirSync(join(dir, 'vrrp')), [])
  t.equal((await pruneOutbox(dir, { deadMaxAgeMs: 7 * DAY, now: now + LEDGER_KEEP_MS + 1000 })).ledger, 2, 'ledger entries go after LEDGER_KEEP_MS')
  t.same(readdirSync(join(dir, 'ledger')), [])
  t.ok(a.id < b.id)
})

t.test('the size counts each event once however many queues hold it; orphaned queues are found', async (t) => {
  const dir = setup(t)
  const outbox = openOutbox({ stateDir: dir, webhooks: [{ name: 'a' }, { name: 'b' }, { name: 'old-name' }] })
  await outbox.append({ type: 'agent.test', data: { pad: 'x'.repeat(10_000) } })
  const one = await measureOutbox(dir, ['a', 'b', 'old-name'])
  // one inode of ~10 KB (3 blocks of 4 KiB) linked from three queues and the ledger
  t.ok(one.bytes >= 10_000 && one.bytes < 20_000, `${one.bytes} bytes`)
  t.same(one.orphaned, [])
  const renamed = await measureOutbox(dir, ['a', 'b', 'new-name'])
  t.same(renamed.orphaned, [{ queue: 'old-name', pending: 1 }], 'the renamed webhook\'s queue is nobody\'s')
  mkdirSync(join(dir, 'queue', 'empty-old'))
  t.same((await measureOutbox(dir, ['a', 'b'])).orphaned, [{ queue: 'old-name', pending: 1 }], 'an empty leftover queue is not worth a report')
  linkSync(join(dir, 'queue', 'a', readdirSync(join(dir, 'queue', 'a'))[0]!), join(dir, 'queue', 'a', 'copy.json'))
  t.equal((await measureOutbox(dir, ['a', 'b', 'old-name'])).bytes, one.bytes, 'hard links are not counted twice')
})
