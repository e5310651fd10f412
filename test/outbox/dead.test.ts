// Dead letters as operators handle them: listed, replayed in their original order.
import t from 'tap'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listDeadLetters, newEventId, openOutbox, replayDeadLetters, WebhookQueue } from '../../src/outbox/index.js'

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
