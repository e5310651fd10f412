// Dead letters as operators handle them: listed, replayed in their original order.
import t from 'tap'
import { startReceiver } from '../fixtures/receiver.js'
import { buildConfig } from '../../src/config/index.js'
import { startDispatcher } from '../../src/webhooks/index.js'
import { silentLogger } from '../../src/log/index.js'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deadLetterWebhooks, listDeadLetters, newEventId, openOutbox, replayDeadLetters, WebhookQueue } from '../../src/outbox/index.js'

function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-dead-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return { dir, outbox: openOutbox({ stateDir: dir, webhooks: [{ name: 'ops' }, { name: 'chat' }] }) }
}

t.test('dead letters are listed with webhook, id, type, age and reason; replay restores order and bytes', async (t) => {
  const { dir, outbox } = setup(t)
  const events = []
  for (let i = 0; i < 3; i++) events.push(await outbox.append({ type: i === 1 ? 'vrrp.transition' : 'agent.test', data: { i } }))
  const q = new WebhookQueue(dir, 'ops')
  // The deliverer gives up on the first two (e.g. HTTP 410), in order.
  for (const reason of ['HTTP 410', 'HTTP 404']) q.deadLetter(q.head()!, reason, 1, Date.parse('2026-11-25T10:00:00Z'))
  const list = listDeadLetters(dir)
  t.match(list, [
    { webhook: 'ops', id: events[0]!.id, type: 'agent.test', reason: 'HTTP 410', dead_at: '2026-11-25T10:00:00.000Z', attempts: 1 },
    { webhook: 'ops', id: events[1]!.id, type: 'vrrp.transition', reason: 'HTTP 404' },
  ])
  t.ok(Math.abs(list[0]!.happened_at - Date.now()) < 10_000, 'age from the id')
  t.same(listDeadLetters(dir, 'chat'), [], 'the other webhook has none')
  t.same(readdirSync(join(dir, 'queue', 'ops')).filter((n) => n.endsWith('.json')), [`${events[2]!.id}.json`])

  t.same(replayDeadLetters(dir, 'ops', [events[1]!.id]), [events[1]!.id], 'one by id')
  t.same(replayDeadLetters(dir, 'ops'), [events[0]!.id], 'the rest')
  t.same(listDeadLetters(dir), [])
  const queued = readdirSync(join(dir, 'queue', 'ops')).filter((n) => n.endsWith('.json')).sort()
  t.same(queued, events.map((e) => `${e.id}.json`), 'back in the queue, in their original order (before the newer event)')
  const q2 = new WebhookQueue(dir, 'ops')
  t.same(q2.head()!.event, events[0], 'the same event, same webhook-id')
  t.same(readdirSync(join(dir, 'dead', 'ops')), [], 'no meta left behind')
})

t.test('a dead letter of version 0.1.0 ({webhook, reason, dead_at, event}) is listed and replayed as its event', async (t) => {
  const { dir } = setup(t)
  const id = newEventId()
  const event = { id, type: 'agent.test', timestamp: new Date().toISOString(), data: { node: 'n' } }
  mkdirSync(join(dir, 'dead', 'ops'), { recursive: true })
  writeFileSync(join(dir, 'dead', 'ops', `${id}.json`), JSON.stringify({ webhook: 'ops', reason: 'HTTP 410', dead_at: '2026-11-20T00:00:00.000Z', event }))
  t.match(listDeadLetters(dir), [{ id, type: 'agent.test', reason: 'HTTP 410', dead_at: '2026-11-20T00:00:00.000Z', attempts: null }])
  replayDeadLetters(dir, 'ops')
  t.same(JSON.parse(readFileSync(join(dir, 'queue', 'ops', `${id}.json`), 'utf8')), event)
})

t.test('replaying ids that are not dead letters does nothing', async (t) => {
  const { dir } = setup(t)
  t.same(replayDeadLetters(dir, 'ops', ['msg_000000000000000000000000']), [])
})

t.test('a replayed dead letter gets a new max_age from the replay (it died of old age otherwise); the note goes with it', async (t) => {
  const { dir } = setup(t)
  const rx = await startReceiver(t)
  const config = buildConfig({ state_dir: dir, webhooks: [{ name: 'ops', url: rx.url, max_age: '24h' }] }, null)
  const twoDaysAgo = Date.now() - 2 * 86_400_000
  const outbox = openOutbox({ stateDir: dir, webhooks: config.webhooks })
  const old = await outbox.append({ type: 'agent.test', data: { node: 'n' }, timestamp: new Date(twoDaysAgo).toISOString(), orderMicros: twoDaysAgo * 1000 })
  const q = new WebhookQueue(dir, 'ops')
  q.deadLetter(q.head()!, 'not delivered within max_age (40 attempts; last: HTTP 503)', 40)

  t.same(replayDeadLetters(dir, 'ops'), [old.id])
  t.ok(existsSync(join(dir, 'queue', 'ops', `${old.id}.replayed`)), 'a note of when it was replayed beside it')
  t.ok(Math.abs(new WebhookQueue(dir, 'ops').head()!.replayedAt! - Date.now()) < 10_000)
  const d = startDispatcher({ stateDir: dir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  t.match(await d.waitFor(old.id, 5000), [{ webhook: 'ops', result: 'delivered' }], 'delivered, not dead again at once')
  t.equal(rx.delivered[0]!.headers['webhook-id'], old.id)
  t.same(readdirSync(join(dir, 'queue', 'ops')), [], 'event and note gone once delivered')
  t.same(listDeadLetters(dir), [])
})

t.test('replay returns what it moved oldest first, skips what is no longer dead, and keeps the queue owner', async (t) => {
  const { dir, outbox } = setup(t)
  const events = []
  for (let i = 0; i < 3; i++) events.push(await outbox.append({ type: 'agent.test', data: { i } }))
  const q = new WebhookQueue(dir, 'ops')
  for (let i = 0; i < 3; i++) q.deadLetter(q.head()!, 'HTTP 410', 1)
  if (process.getuid?.() === 0) chownSync(join(dir, 'queue', 'ops'), 65534, 65534)
  t.same(replayDeadLetters(dir, 'ops', [events[2]!.id, events[0]!.id]), [events[0]!.id, events[2]!.id])
  t.same(replayDeadLetters(dir, 'ops', [events[0]!.id, events[1]!.id]), [events[1]!.id], 'the one replayed already is skipped')
  if (process.getuid?.() === 0) {
    const note = statSync(join(dir, 'queue', 'ops', `${events[0]!.id}.replayed`))
    t.same([note.uid, note.gid], [65534, 65534], 'root replays as the daemon would: the note belongs to the queue owner')
  }
})

t.test('a dead-letter directory that cannot be read is an error, not "no dead letters"', async (t) => {
  const { dir } = setup(t)
  writeFileSync(join(dir, 'dead'), 'not a directory')
  t.throws(() => listDeadLetters(dir), { code: 'HA_ERR_STORAGE', message: /cannot read the dead letters in .*dead: not a directory \(ENOTDIR\)/ })
  rmSync(join(dir, 'dead'))
  mkdirSync(join(dir, 'dead'))
  writeFileSync(join(dir, 'dead', 'stray-file'), '')
  t.same(listDeadLetters(dir), [], 'a stray file beside the webhook directories is not one')
  t.same(deadLetterWebhooks(dir), [])
})

t.test('pruning removes a replay note whose event is gone (a crash between the two unlinks)', async (t) => {
  const { dir } = setup(t)
  const { pruneOutbox } = await import('../../src/outbox/index.js')
  mkdirSync(join(dir, 'queue', 'ops'), { recursive: true })
  const stale = join(dir, 'queue', 'ops', 'msg_0006253f1a2b3c4d0011223344.replayed')
  writeFileSync(stale, '{}')
  const hourAgo = new Date(Date.now() - 2 * 3_600_000)
  utimesSync(stale, hourAgo, hourAgo)
  await pruneOutbox(dir, { deadMaxAgeMs: 86_400_000 })
  t.notOk(existsSync(stale))
})

t.test('a running deliverer notices a replay through inotify alone (no safety poll)', async (t) => {
  const { dir } = setup(t)
  const rx = await startReceiver(t)
  rx.reply(410)
  const config = buildConfig({ state_dir: dir, webhooks: [{ name: 'ops', url: rx.url }] }, null)
  const d = startDispatcher({ stateDir: dir, webhooks: config.webhooks, logger: silentLogger, pollMs: 3_600_000 })
  t.teardown(() => d.stop())
  const ev = await openOutbox({ stateDir: dir, webhooks: config.webhooks }).append({ type: 'agent.test', data: { node: 'n' } })
  d.kick()
  t.match(await d.waitFor(ev.id, 5000), [{ result: 'dead', detail: 'HTTP 410' }])
  const at = performance.now()
  replayDeadLetters(dir, 'ops')
  const [got] = await rx.waitForDelivered(1, 3000)
  t.equal(got!.headers['webhook-id'], ev.id)
  t.comment(`replayed -> delivered in ${(performance.now() - at).toFixed(1)} ms`)
})
