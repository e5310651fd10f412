import t from 'tap'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { openOutbox } from '../../src/outbox/index.js'
import { startDispatcher } from '../../src/webhooks/index.js'
import { silentLogger } from '../../src/log/index.js'
import { startReceiver } from '../fixtures/receiver.js'

function setup(t: { teardown(fn: () => unknown): void }, webhooks: object[]) {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-dispatch-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const config = buildConfig({ state_dir: stateDir, webhooks }, null, { env: { HA_AGENT_WEBHOOK_HOOK_SECRET: 'whsec_' + Buffer.from('dispatcher-test-key-0123456789').toString('base64') } })
  const outbox = openOutbox({ stateDir, webhooks: config.webhooks })
  return { stateDir, config, outbox }
}

// full jitter with a tiny random and no floor: retries within a few ms (the floor has its own test)
const fastRetries = () => 0.01

t.test('delivers in order through 503s, with the same webhook-id on every retry', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url }])
  rx.reply(503, 503, 503)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x', i } })).id)
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  const got = await rx.waitForDelivered(5)
  t.same(got.map((r) => r.headers['webhook-id']), ids, 'in order')
  t.same(rx.all.slice(0, 4).map((r) => r.headers['webhook-id']), [ids[0], ids[0], ids[0], ids[0]], 'head retried, same id')
  t.ok(got.every((r) => typeof r.headers['webhook-signature'] === 'string'))
  await t.resolveMatch(d.waitFor(ids[4]!, 2000), [{ webhook: 'hook', result: 'delivered' }])
  t.equal(d.stats().pending, 0)
  t.same(readdirSync(join(stateDir, 'queue', 'hook')).filter((n) => n.endsWith('.json')), [], 'delivered events are removed')
})

t.test('429 with Retry-After is honoured', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url }])
  rx.reply({ status: 429, headers: { 'retry-after': '1' } })
  await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  const [ok] = await rx.waitForDelivered(1, 5000)
  const gap = ok!.at - rx.all[0]!.at
  t.ok(gap >= 950, `waited ${gap.toFixed(0)} ms after Retry-After: 1`)
})

t.test('410 is dead at once and kept for operators; the next event goes', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url }])
  rx.reply(410)
  const first = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const second = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'y' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  await rx.waitForDelivered(1)
  t.equal(rx.delivered[0]!.headers['webhook-id'], second.id)
  t.equal(rx.all.length, 2, 'the 410 was not retried')
  t.same(JSON.parse(readFileSync(join(stateDir, 'dead', 'hook', `${first.id}.json`), 'utf8')), first, 'the event, as it was queued')
  t.match(JSON.parse(readFileSync(join(stateDir, 'dead', 'hook', `${first.id}.meta`), 'utf8')), { webhook: 'hook', reason: 'HTTP 410', attempts: 1, type: 'agent.test' })
  t.equal(d.stats().dead, 1)
})

t.test('a receiver that never answers times out and is retried; one that closes early too', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url, timeout_ms: 300 }])
  rx.reply('never', 'close')
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const results: string[] = []
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0, onResult: (_w, r) => results.push(r) })
  t.teardown(() => d.stop())
  await rx.waitForDelivered(1, 5000)
  // The receiver records the request before the dispatcher has read the answer.
  await d.waitFor(ev.id, 5000)
  t.same(results, ['retry', 'retry', 'delivered'])
  t.equal(rx.delivered[0]!.headers['webhook-id'], ev.id)
})

t.test('past max_age the event is dead-lettered with the last error', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url, max_age: '400ms' }])
  rx.setDefault(503)
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: () => 0.2, minRetryMs: 0 })
  t.teardown(() => d.stop())
  const [r] = await d.waitFor(ev.id, 5000)
  t.equal(r!.result, 'dead')
  t.match(r!.detail, /not delivered within max_age .*HTTP 503/)
})

t.test('only / events filters route events to the right webhooks', async (t) => {
  const a = await startReceiver(t)
  const b = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [
    { name: 'a', url: a.url },
    { name: 'b', url: b.url, events: ['vrrp.transition'] },
  ])
  await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' }, only: ['b'] })
  await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  await a.waitForDelivered(1)
  await new Promise((r) => setTimeout(r, 200))
  t.equal(a.delivered.length, 1, 'a got only the unrestricted event')
  t.equal(b.all.length, 0, 'b wants vrrp.transition only; "only: [b]" cannot override its filter')
})

t.test('a long backlog (webhook down, then back) drains in order, a window at a time', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url }])
  const N = 1200 // several windows of 256
  rx.reply(503, 503)
  const ids: string[] = []
  for (let i = 0; i < N; i++) ids.push((await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x', i } })).id)
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  // Events recorded while the backlog drains (from other processes) keep their place.
  const late: string[] = []
  for (let i = 0; i < 5; i++) late.push((await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'late', i } })).id)
  const got = await rx.waitForDelivered(N + 5, 120_000)
  t.same(got.map((r) => r.headers['webhook-id']), [...ids, ...late], 'every event once, in order')
  t.equal(rx.all.length, N + 5 + 2, 'only the two 503s were repeated')
  await t.resolveMatch(d.waitFor(late[4]!, 2000), [{ webhook: 'hook', result: 'delivered' }])
  t.equal(d.stats().pending, 0)
})

t.test('a dead letter that cannot be written keeps the event queued without spinning', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url }])
  rx.setDefault(410)
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  // A regular file where the dead-letter directory should be: mkdir fails (ENOTDIR/EEXIST).
  mkdirSync(join(stateDir, 'dead'))
  writeFileSync(join(stateDir, 'dead', 'hook'), 'not a directory')
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  await rx.waitForDelivered(0)
  await new Promise((r) => setTimeout(r, 300))
  // The event loop is still free (a timer fires on time) and the event is still queued.
  const started = performance.now()
  await new Promise((r) => setTimeout(r, 20))
  t.ok(performance.now() - started < 500, 'the event loop is not blocked')
  t.equal(rx.all.length, 1, 'one attempt, then waiting for the dead-letter retry')
  t.same(readdirSync(join(stateDir, 'queue', 'hook')).filter((n) => n.endsWith('.json')), [`${ev.id}.json`], 'kept in the queue')
  t.equal(d.stats().pending, 1)
})

t.test('stop() abandons a hanging request within a bound; the event stays for the next start', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url, timeout_ms: 60_000 }])
  rx.reply('never')
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  while (rx.all.length === 0) await new Promise((r) => setTimeout(r, 10))
  const started = performance.now()
  await d.stop()
  const took = performance.now() - started
  t.ok(took < 2000, `stopped in ${took.toFixed(0)} ms with a request hanging`)
  t.same(readdirSync(join(stateDir, 'queue', 'hook')).filter((n) => n.endsWith('.json')), [`${ev.id}.json`], 'still queued')
  const again = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => again.stop())
  const [ok] = await rx.waitForDelivered(1)
  t.equal(ok!.headers['webhook-id'], ev.id, 'delivered after the restart with the same id')
})

t.test('reload() points a webhook somewhere else; queued events follow it', async (t) => {
  const before = await startReceiver(t)
  const after = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: before.url }])
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  const first = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  d.kick()
  await before.waitForDelivered(1)
  const moved = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'hook', url: after.url }] }, null, { env: {} })
  d.reload(moved.webhooks)
  const second = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'y' } })
  d.kick()
  const [got] = await after.waitForDelivered(1)
  t.equal(before.delivered[0]!.headers['webhook-id'], first.id)
  t.equal(got!.headers['webhook-id'], second.id)
  t.notOk(got!.headers['webhook-signature'], 'the reloaded webhook has no secret, so no signature')
})

t.test('a Retry-After beyond max_age dead-letters at max_age, without spinning', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url, max_age: '800ms' }])
  // 3000 years: far more than setTimeout can hold.
  rx.setDefault({ status: 503, headers: { 'retry-after': String(3000 * 365 * 86400) } })
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  const [r] = await d.waitFor(ev.id, 10_000)
  t.equal(r!.result, 'dead')
  t.equal(rx.all.length, 1, 'one attempt; the Retry-After was honoured until max_age')
})

t.test('reload() while a request hangs: the old lane lets go before the new one sends', async (t) => {
  const before = await startReceiver(t)
  const after = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: before.url, timeout_ms: 60_000 }])
  before.reply('never')
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  while (before.all.length === 0) await new Promise((r) => setTimeout(r, 10))
  d.reload(buildConfig({ state_dir: stateDir, webhooks: [{ name: 'hook', url: after.url }] }, null, { env: {} }).webhooks)
  const [got] = await after.waitForDelivered(1)
  t.equal(got!.headers['webhook-id'], ev.id)
  await new Promise((r) => setTimeout(r, 200))
  t.equal(after.all.length, 1, 'sent once by the new lane')
  t.equal(before.all.length, 1, 'the old lane did not retry after the reload')
})

t.test('reload() with only a new routing key (a secret, invisible to JSON) takes effect', async (t) => {
  const rx = await startReceiver(t)
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-dispatch-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const hooks = [{ name: 'pd', url: rx.url, format: 'pagerduty' }]
  const cfg = (key: string) => buildConfig({ state_dir: stateDir, webhooks: hooks }, null, { env: { HA_AGENT_WEBHOOK_PD_ROUTING_KEY: key } })
  const outbox = openOutbox({ stateDir, webhooks: cfg('old').webhooks })
  const d = startDispatcher({ stateDir, webhooks: cfg('old').webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  const transition = { type: 'vrrp.transition' as const, data: { node: 'n', instance: 'VI_1', kind: 'INSTANCE', state: 'FAULT', previous_state: null, priority: null, source: 'notify' } }
  await outbox.append(transition)
  d.kick()
  await rx.waitForDelivered(1)
  d.reload(cfg('new').webhooks)
  await outbox.append(transition)
  d.kick()
  const got = await rx.waitForDelivered(2)
  t.same(got.map((r) => r.json().routing_key), ['old', 'new'])
})

t.test('Retry-After: 0 and a zero jitter still wait the floor between attempts', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url }])
  rx.setDefault({ status: 503, headers: { 'retry-after': '0' } })
  await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: () => 0 })
  t.teardown(() => d.stop())
  await new Promise((r) => setTimeout(r, 2500))
  // At MIN_RETRY_DELAY_MS (1 s): the first attempt and two retries. It was 500 a second.
  t.ok(rx.all.length >= 2 && rx.all.length <= 4, `${rx.all.length} attempts in 2.5 s`)
  const gaps = rx.all.slice(1).map((r, i) => r.at - rx.all[i]!.at)
  t.ok(gaps.every((g) => g >= 950), `gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`)
})

t.test('records that are not events go to dead letters at once, with their original bytes', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, [{ name: 'hook', url: rx.url }])
  const good = await outbox.append({ type: 'agent.test', data: { node: 'n', state: 'x' } })
  const dir = join(stateDir, 'queue', 'hook')
  // Before the good one (ids sort by time): an unreadable timestamp and a torn file.
  const badTime = 'msg_00000000000001aaaaaaaaaa'
  const torn = 'msg_00000000000002bbbbbbbbbb'
  const badTimeBytes = JSON.stringify({ id: badTime, type: 'agent.test', timestamp: 'soon', data: { node: 'n' } })
  writeFileSync(join(dir, `${badTime}.json`), badTimeBytes)
  writeFileSync(join(dir, `${torn}.json`), '{"id":"msg_00000000000002bbbb')
  const results: string[] = []
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, onResult: (_w, r, e) => results.push(`${r} ${e?.id ?? '-'}`) })
  t.teardown(() => d.stop())
  const [ok] = await rx.waitForDelivered(1)
  t.equal(ok!.headers['webhook-id'], good.id, 'the good event still goes, after the bad ones')
  t.equal(rx.all.length, 1, 'nothing was sent for the bad records')
  t.same(results, ['dead -', 'dead -', `delivered ${good.id}`])
  const dead = join(stateDir, 'dead', 'hook')
  t.equal(readFileSync(join(dead, `${badTime}.json`), 'utf8'), badTimeBytes, 'original bytes kept')
  t.equal(readFileSync(join(dead, `${torn}.json`), 'utf8'), '{"id":"msg_00000000000002bbbb')
  t.match(JSON.parse(readFileSync(join(dead, `${badTime}.meta`), 'utf8')), { reason: /unreadable record: not an event: timestamp: not a timestamp/ })
  t.match(JSON.parse(readFileSync(join(dead, `${torn}.meta`), 'utf8')), { reason: /unreadable record: not JSON/ })
})
