// The alertmanager sink against a receiver on loopback that misbehaves on demand
// (test/integration/alertmanager.test.ts runs the real Alertmanager).
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig, type WebhookConfig } from '../../src/config/index.js'
import { openOutbox } from '../../src/outbox/index.js'
import { alertmanagerBookPath, alertsUrl, createAlertmanagerSink, startDispatcher, type AlertConditions } from '../../src/webhooks/index.js'
import { createLogger, silentLogger } from '../../src/log/index.js'
import { startReceiver, type Received } from '../fixtures/receiver.js'
import { waitFor } from '../fixtures/procs.js'

function setup(t: { teardown(fn: () => unknown): void }, url: string, extra: Record<string, unknown> = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-am-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const config = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'am', url, format: 'alertmanager', ...extra }] }, null)
  return { stateDir, config, webhook: config.webhooks[0]! as WebhookConfig, outbox: openOutbox({ stateDir, webhooks: config.webhooks }) }
}

const vrrp = (state: string, instance = 'VI_1') => ({ type: 'vrrp.transition' as const, data: { node: 'ha1', instance, kind: 'INSTANCE', state, previous_state: null, priority: 100, source: 'notify' } })
const alertsIn = (r: Received) => r.json() as Array<{ labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string }>
const named = (r: Received, alertname: string) => alertsIn(r).filter((a) => a.labels.alertname === alertname)
const fastRetries = () => 0.01

t.test('alertsUrl: {url}/api/v2/alerts, under a route prefix too', async (t) => {
  t.equal(alertsUrl('http://am:9093'), 'http://am:9093/api/v2/alerts')
  t.equal(alertsUrl('http://am:9093/'), 'http://am:9093/api/v2/alerts')
  t.equal(alertsUrl('https://mon.example.org/alertmanager/'), 'https://mon.example.org/alertmanager/api/v2/alerts')
  t.equal(alertsUrl('http://am:9093/api/v2/alerts'), 'http://am:9093/api/v2/alerts', 'already the endpoint')
  t.equal(alertsUrl('http://u:p@am:9093?x=1'), 'http://u:p@am:9093/api/v2/alerts?x=1')
})

t.test('through the lane: FAULT POSTs the alert array at once; 503 is retried, 400 dead-lettered, then MASTER resolves', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, rx.url, { resend_interval: '1h' })
  rx.reply(503, 200, 400)
  const fault = await outbox.append(vrrp('FAULT'))
  const bad = await outbox.append(vrrp('FAULT', 'VI_2'))
  const master = await outbox.append(vrrp('MASTER'))
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, random: fastRetries, minRetryMs: 0 })
  t.teardown(() => d.stop())
  t.match(await d.waitFor(fault.id, 5000), [{ webhook: 'am', result: 'delivered' }])
  t.match(await d.waitFor(bad.id, 5000), [{ webhook: 'am', result: 'dead', detail: 'HTTP 400' }], 'Alertmanager refused it (a malformed alert): dead letter')
  t.match(await d.waitFor(master.id, 5000), [{ webhook: 'am', result: 'delivered' }])
  const posts = rx.all.filter((r) => r.url !== '/hook/api/v2/alerts' || r.method !== 'POST')
  t.same(posts, [], 'every request is POST {url}/api/v2/alerts')
  // The first resend round (at start) may come between the events: look at the event requests.
  const faultPosts = rx.all.filter((r) => named(r, 'HaAgentVrrpFault').some((a) => a.labels.vrrp_instance === 'VI_1'))
  const first = faultPosts[0]!
  t.equal(first.headers['content-type'], 'application/json')
  const [firing] = named(first, 'HaAgentVrrpFault')
  t.same(firing!.labels, { alertname: 'HaAgentVrrpFault', node: 'ha1', vrrp_instance: 'VI_1', severity: 'warning' })
  t.equal(firing!.startsAt, fault.timestamp)
  t.ok(Date.parse(firing!.endsAt) > Date.now() + 3.9 * 3_600_000, 'firing: ends 4 resend intervals ahead')
  const strip = (r: Received) => alertsIn(r).map((a) => ({ ...a, endsAt: a.labels.alertname === 'HaAgentVrrpFault' ? 'later' : a.endsAt }))
  t.same(strip(faultPosts[1]!), strip(first), 'the 503 was retried with the same alerts (a firing one ends 4 intervals after this attempt)')
  const resolved = named(faultPosts.at(-1)!, 'HaAgentVrrpFault')[0]!
  t.equal(resolved.endsAt, master.timestamp, 'MASTER resolves it at its own time')
  t.equal(resolved.startsAt, fault.timestamp, 'the same alert: it began with the FAULT')
  t.equal(d.stats().dead, 1)
})

t.test('heartbeats are no alert: delivered without a request; agent.test fires a 5-minute alert', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, rx.url, { resend_interval: '1h' })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  await waitFor('the first resend round', () => (d.stats().webhooks.length ? true : undefined))
  const hb = await outbox.append({ type: 'agent.heartbeat', data: { node: 'ha1', state: 'ok' } })
  t.match(await d.waitFor(hb.id, 5000), [{ result: 'delivered' }])
  t.equal(rx.all.filter((r) => r.body.includes('heartbeat')).length, 0)
  const test = await outbox.append({ type: 'agent.test', data: { node: 'ha1', state: 'test' } })
  t.match(await d.waitFor(test.id, 5000), [{ result: 'delivered' }])
  const sent = named(rx.all.at(-1)!, 'HaAgentTest')[0]!
  t.same(sent.labels, { alertname: 'HaAgentTest', node: 'ha1', severity: 'info', test_id: test.id })
  const lasts = Date.parse(sent.endsAt) - Date.parse(sent.startsAt)
  t.ok(lasts > 299_000 && lasts <= 300_000, `resolves by itself in 5 minutes (${lasts} ms)`)
})

t.test('re-sends every firing alert each resend_interval, ending 4 intervals ahead; keeps them across a restart', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, rx.url, { resend_interval: '1s' })
  const fault = await outbox.append(vrrp('FAULT'))
  let d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger })
  await d.waitFor(fault.id, 5000)
  const faults = () => rx.all.filter((r) => named(r, 'HaAgentVrrpFault').some((a) => a.endsAt > new Date(r.at).toISOString()))
  await waitFor('two re-sends', () => (faults().length >= 3 ? true : undefined), 5000)
  const [a, b] = faults().slice(-2)
  // Not early; late by as much as a loaded machine makes timers late, but nowhere near the 4 intervals alerts last.
  t.ok(b!.at - a!.at > 800 && b!.at - a!.at < 3000, `about a second apart (${(b!.at - a!.at).toFixed(0)} ms)`)
  const resent = named(b!, 'HaAgentVrrpFault')[0]!
  t.equal(resent.startsAt, fault.timestamp, 'still the time it began')
  const ahead = Date.parse(resent.endsAt) - b!.at
  t.ok(ahead > 3000 && ahead <= 4100, `endsAt about 4 intervals after the send (${ahead.toFixed(0)} ms)`)
  const book = JSON.parse(readFileSync(alertmanagerBookPath(stateDir, 'am'), 'utf8'))
  t.match(book, { webhook: 'am', alerts: [{ labels: { alertname: 'HaAgentVrrpFault', vrrp_instance: 'VI_1' }, startsAt: fault.timestamp }], vrrp_seen: { VI_1: fault.timestamp } })
  await d.stop()

  // A new daemon: no event comes, the alert goes on from the file, at once. Its
  // interval is a minute: a re-send seen within the wait can only be the one at start.
  const before = rx.all.length
  const restarted = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'am', url: rx.url, format: 'alertmanager', resend_interval: '1m' }] }, null)
  d = startDispatcher({ stateDir, webhooks: restarted.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  const again = await waitFor('a re-send after the restart', () => rx.all.slice(before).find((r) => named(r, 'HaAgentVrrpFault').length), 10_000)
  t.equal(named(again, 'HaAgentVrrpFault')[0]!.startsAt, fault.timestamp)
})

t.test('what holds now: a recovered check resolves, a FAULT nobody sent fires', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, rx.url, { resend_interval: '1s' })
  const failed = await outbox.append({ type: 'check.failed', data: { node: 'ha1', check: 'postgres', detail: 'refused' } })
  let conditions: AlertConditions = { node: 'ha1' }
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger, alertConditions: () => conditions })
  t.teardown(() => d.stop())
  await d.waitFor(failed.id, 5000)
  const lastPost = () => rx.all.at(-1)!
  await waitFor('the check alert re-sent', () => (named(lastPost(), 'HaAgentCheckFailing').length ? true : undefined), 3000)

  // The daemon restarted meanwhile and the check passes (no check.recovered will ever come).
  conditions = { node: 'ha1', checks: [{ name: 'postgres', status: 'pass', detail: 'ok' }] }
  const resolved = await waitFor('the check resolved', () => rx.all.find((r) => named(r, 'HaAgentCheckFailing').some((a) => Date.parse(a.endsAt) <= r.at)), 3000)
  t.ok(resolved, 'sent with endsAt <= now')
  await new Promise((r) => setTimeout(r, 1500))
  t.same(rx.all.filter((r) => r.at > resolved.at && named(r, 'HaAgentCheckFailing').length), [], 'and no longer sent')

  // A FAULT in the state file that no event brought (it was dead-lettered, say).
  conditions = { node: 'ha1', vrrp: [{ instance: 'VI_9', state: 'FAULT', since: '2026-03-01T10:00:00.000Z' }] }
  const fault = await waitFor('the FAULT', () => rx.all.find((r) => named(r, 'HaAgentVrrpFault').length), 3000)
  t.match(named(fault, 'HaAgentVrrpFault'), [{ labels: { vrrp_instance: 'VI_9', node: 'ha1' }, startsAt: '2026-03-01T10:00:00.000Z' }])
})

t.test('dead letters of the dispatcher\'s own webhooks are counted without a daemon', async (t) => {
  const rx = await startReceiver(t)
  const other = await startReceiver(t)
  other.setDefault(410)
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-am-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const config = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'am', url: rx.url, format: 'alertmanager', resend_interval: '1s', events: ['vrrp.transition'] }, { name: 'ops', url: other.url }] }, null)
  const ev = await openOutbox({ stateDir, webhooks: config.webhooks }).append({ type: 'agent.test', data: { node: 'ha1', state: 'test' }, only: ['ops'] })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  t.match(await d.waitFor(ev.id, 5000), [{ webhook: 'ops', result: 'dead' }])
  const r = await waitFor('the dead-letter alert', () => rx.all.find((x) => named(x, 'HaAgentDeadLetters').length), 3000)
  t.equal(named(r, 'HaAgentDeadLetters').length, 1, 'one alert: am has no dead letters')
  t.match(named(r, 'HaAgentDeadLetters'), [{ labels: { webhook: 'ops' }, annotations: { summary: /^1 dead letter for webhook ops on / } }])
})

t.test('a re-send that fails is logged once and tried again next round; the book stays', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, webhook } = setup(t, rx.url, { resend_interval: '1s' })
  const lines: string[] = []
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } })
  let now = Date.parse('2026-03-01T10:00:00.000Z')
  const sink = createAlertmanagerSink({ webhook, stateDir, logger, now: () => now, conditions: () => ({ node: 'ha1', checks: [{ name: 'postgres', status: 'pass' }] }) })
  t.teardown(() => sink.close())
  const ac = new AbortController()
  const ev = (type: string, data: object) => ({ id: 'msg_000000000000000000000001', type: type as 'check.failed', timestamp: new Date(now).toISOString(), data: { node: 'ha1', ...data } })
  t.match(await sink.deliver(ev('check.failed', { check: 'postgres' }), ac.signal), { result: 'delivered' })
  t.equal(sink.firing().length, 1)
  rx.setDefault(503)
  now += 1000
  t.match(await sink.resend(), { result: 'retry', detail: 'HTTP 503' })
  t.match(await sink.resend(), { result: 'retry' })
  t.equal(sink.firing().length, 1, 'not resolved in the book while Alertmanager did not take it')
  t.equal(lines.filter((l) => l.includes('cannot re-send')).length, 1, 'logged once while it lasts')
  rx.setDefault(200)
  t.match(await sink.resend(), { result: 'delivered' })
  t.equal(sink.firing().length, 0, 'now resolved')
  t.ok(lines.some((l) => l.includes('takes the firing alerts again')))
  t.match(JSON.parse(readFileSync(alertmanagerBookPath(stateDir, 'am'), 'utf8')), { alerts: [] })
  t.equal(await sink.resend(), undefined, 'nothing firing: nothing sent')
})

t.test('a book that is not JSON: logged, and the sink starts with none', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, webhook } = setup(t, rx.url)
  mkdirSync(join(stateDir, 'alertmanager'))
  writeFileSync(alertmanagerBookPath(stateDir, 'am'), '{"alerts": [')
  const lines: string[] = []
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } })
  const sink = createAlertmanagerSink({ webhook, stateDir, logger })
  t.teardown(() => sink.close())
  t.equal(await sink.resend(), undefined)
  t.match(lines.join(''), /not JSON; starting with none/)
  t.ok(existsSync(alertmanagerBookPath(stateDir, 'am')))
})

t.test('two sinks never overlap a request: a resend built before a resolve does not arrive after it', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, webhook } = setup(t, rx.url)
  const sink = createAlertmanagerSink({ webhook, stateDir, logger: silentLogger })
  t.teardown(() => sink.close())
  const ac = new AbortController()
  const at = new Date().toISOString()
  await sink.deliver({ id: 'msg_000000000000000000000001', type: 'vrrp.transition', timestamp: at, data: vrrp('FAULT').data }, ac.signal)
  rx.reply({ status: 200, delayMs: 300 })
  const resend = sink.resend()
  const master = sink.deliver({ id: 'msg_000000000000000000000002', type: 'vrrp.transition', timestamp: at, data: vrrp('MASTER').data }, ac.signal)
  await Promise.all([resend, master])
  const [r1, r2] = rx.all.slice(-2)
  t.ok(named(r1!, 'HaAgentVrrpFault')[0]!.endsAt > at, 'the resend (firing) first')
  t.equal(named(r2!, 'HaAgentVrrpFault')[0]!.endsAt, at, 'then the resolve')
  t.ok(r2!.at >= r1!.at + 250, 'the resolve waited for the resend to be answered')
})

t.test('a reload that changes the webhook: the new sink starts once the old one closed, with its alerts', async (t) => {
  const rx = await startReceiver(t)
  const { stateDir, config, outbox } = setup(t, rx.url, { resend_interval: '1h' })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  const fault = await outbox.append(vrrp('FAULT'))
  await d.waitFor(fault.id, 5000)
  const before = rx.all.length
  await new Promise((r) => setTimeout(r, 300))
  t.equal(rx.all.length, before, 'an hour between re-sends')
  const next = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'am', url: rx.url, format: 'alertmanager', resend_interval: '1s', labels: { pair: 'b' } }] }, null)
  d.reload(next.webhooks)
  const relabelled = await waitFor('the new sink re-sends, relabelled', () => rx.all.slice(before).find((r) => named(r, 'HaAgentVrrpFault').some((a) => a.labels.pair === 'b')), 3000)
  const [old, now] = [named(relabelled, 'HaAgentVrrpFault').find((a) => !a.labels.pair)!, named(relabelled, 'HaAgentVrrpFault').find((a) => a.labels.pair === 'b')!]
  t.ok(Date.parse(old.endsAt) <= relabelled.at, 'the alert under the old labels is resolved')
  t.equal(now.startsAt, fault.timestamp, 'the same alert goes on under the new labels, since the FAULT')
  await waitFor('another re-send a second later', () => (rx.all.filter((r) => r.at > relabelled.at + 500 && named(r, 'HaAgentVrrpFault').length).length ? true : undefined), 3000)
})
