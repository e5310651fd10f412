import t from 'tap'
import { createHmac } from 'node:crypto'
import { buildConfig } from '../../src/config/index.js'
import { renderRequest, signStandard } from '../../src/webhooks/index.js'
import type { AgentEvent } from '../../src/events/index.js'

t.test('Standard Webhooks published test vector', async (t) => {
  // From the Standard Webhooks reference libraries' tests.
  t.equal(
    signStandard('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  )
  // The official library (npm standardwebhooks) agrees on the same vector.
  const { Webhook } = await import('standardwebhooks')
  t.equal(
    new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}'),
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  )
  t.throws(() => signStandard('plain-secret', 'msg_1', 1, 'x'), TypeError, 'a secret without whsec_ is never used as raw bytes (the config refuses it)')
})

const event: AgentEvent = {
  id: 'msg_0006253f1a2b3c4d0011223344',
  type: 'vrrp.transition',
  timestamp: '2026-11-25T10:00:00.000Z',
  data: { node: 'haproxy1', instance: 'VI_1', kind: 'INSTANCE', state: 'FAULT', previous_state: 'MASTER', priority: 250, source: 'notify' },
}

function webhook(format: string) {
  return buildConfig(
    { webhooks: [{ name: 'w', url: 'https://x.test/', format }] },
    null,
    { env: { HA_AGENT_WEBHOOK_W_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', HA_AGENT_WEBHOOK_W_ROUTING_KEY: 'R0UTE' } },
  ).webhooks[0]!
}

t.test('standard: headers, body and a signature an independent verifier accepts', async (t) => {
  const req = renderRequest(event, webhook('standard'), 1_764_064_800_500)!
  t.equal(req.headers['webhook-id'], event.id)
  t.equal(req.headers['webhook-timestamp'], '1764064800')
  t.same(JSON.parse(req.body), { type: event.type, timestamp: event.timestamp, data: event.data })
  const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64')
  const expected = createHmac('sha256', key).update(`${event.id}.1764064800.${req.body}`).digest('base64')
  t.equal(req.headers['webhook-signature'], `v1,${expected}`)
})

t.test('pagerduty: FAULT triggers, MASTER resolves, dedup node/instance', async (t) => {
  const fault = JSON.parse(renderRequest(event, webhook('pagerduty'), Date.now())!.body)
  t.match(fault, { routing_key: 'R0UTE', event_action: 'trigger', dedup_key: 'haproxy1/VI_1', payload: { severity: 'critical', source: 'haproxy1' } })
  const master = JSON.parse(renderRequest({ ...event, data: { ...event.data, state: 'MASTER' } }, webhook('pagerduty'), Date.now())!.body)
  t.match(master, { event_action: 'resolve', dedup_key: 'haproxy1/VI_1' })
  t.equal(renderRequest({ ...event, type: 'agent.heartbeat', data: { node: 'haproxy1', state: 'running' } }, webhook('pagerduty'), Date.now()), null, 'heartbeats are not incidents')
})

t.test('slack shape; alertmanager is not a per-event request (its own sink)', async (t) => {
  const slack = JSON.parse(renderRequest(event, webhook('slack'), Date.now())!.body)
  t.match(slack.text, 'haproxy1: instance VI_1 is FAULT (was MASTER), priority 250')
  t.equal(slack.blocks[0].type, 'section')
  t.equal(renderRequest(event, webhook('alertmanager'), Date.now()), null, 'no version-4 body any more: alertmanager-sink.ts posts alerts')
})

t.test('standard signature verifies with WebCrypto (a second, independent HMAC)', async (t) => {
  const { webcrypto } = await import('node:crypto')
  const req = renderRequest(event, webhook('standard'), Date.now())!
  const key = await webcrypto.subtle.importKey('raw', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
  const sig = Buffer.from(req.headers['webhook-signature']!.slice('v1,'.length), 'base64')
  const signed = new TextEncoder().encode(`${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.${req.body}`)
  t.ok(await webcrypto.subtle.verify('HMAC', key, sig, signed), 'verifies')
  const tampered = new TextEncoder().encode(`${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.${req.body.replace('FAULT', 'MASTER')}`)
  t.notOk(await webcrypto.subtle.verify('HMAC', key, sig, tampered), 'a changed body does not')
})

t.test('the webhook-id is the event id on every attempt; the timestamp is the attempt', async (t) => {
  const w = webhook('standard')
  const a = renderRequest(event, w, 1_764_064_800_000)!
  const b = renderRequest(event, w, 1_764_064_860_000)!
  t.equal(a.headers['webhook-id'], b.headers['webhook-id'])
  t.equal(Number(b.headers['webhook-timestamp']) - Number(a.headers['webhook-timestamp']), 60)
  t.not(a.headers['webhook-signature'], b.headers['webhook-signature'])
  t.equal(a.body, b.body)
})

t.test('pagerduty: STOP triggers, BACKUP resolves; check events open and close their own incident', async (t) => {
  const pd = (e: AgentEvent) => JSON.parse(renderRequest(e, webhook('pagerduty'), Date.now())!.body)
  t.match(pd({ ...event, data: { ...event.data, state: 'STOP' } }), { event_action: 'trigger', dedup_key: 'haproxy1/VI_1' })
  t.match(pd({ ...event, data: { ...event.data, state: 'BACKUP' } }), { event_action: 'resolve', dedup_key: 'haproxy1/VI_1' })
  const failed = pd({ ...event, type: 'check.failed', data: { node: 'haproxy1', check: 'pgbouncer', detail: '0/3 up' } })
  const recovered = pd({ ...event, type: 'check.recovered', data: { node: 'haproxy1', check: 'pgbouncer', detail: '3/3 up' } })
  t.match(failed, { event_action: 'trigger', payload: { severity: 'error', summary: /pgbouncer failed: 0\/3 up/ } })
  t.match(recovered, { event_action: 'resolve' })
  t.equal(failed.dedup_key, recovered.dedup_key)
  t.not(failed.dedup_key, 'haproxy1/VI_1', 'a check incident is not the VRRP incident')
})

t.test('slack: text for notifications, blocks for the message, no secret leaked', async (t) => {
  const req = renderRequest({ ...event, type: 'cluster.split_brain', data: { node: 'haproxy1', instance: 'VI_1', peers: ['haproxy2'] } }, webhook('slack'), Date.now())!
  const body = JSON.parse(req.body)
  t.match(body.text, /SPLIT BRAIN on VI_1: MASTER on haproxy1 and haproxy2/)
  t.same(body.blocks.map((b: { type: string }) => b.type), ['section', 'context'])
  t.notMatch(req.body, /R0UTE|MfKQ9r8/, 'no secret in the body')
})

t.test('several secrets: one v1 signature per secret, in order, space-separated', async (t) => {
  const a = 'whsec_' + Buffer.alloc(32, 1).toString('base64')
  const b = 'whsec_' + Buffer.alloc(32, 2).toString('base64')
  const w = buildConfig({ webhooks: [{ name: 'w', url: 'https://x.test/' }] }, null, { env: { HA_AGENT_WEBHOOK_W_SECRET: `${a} ${b}` } }).webhooks[0]!
  const req = renderRequest(event, w, 1_764_064_800_000)!
  const sign = (key: Buffer) => 'v1,' + createHmac('sha256', key).update(`${event.id}.1764064800.${req.body}`).digest('base64')
  t.equal(req.headers['webhook-signature'], `${sign(Buffer.alloc(32, 1))} ${sign(Buffer.alloc(32, 2))}`)
  const none = buildConfig({ webhooks: [{ name: 'w', url: 'https://x.test/' }] }, null).webhooks[0]!
  t.notOk('webhook-signature' in renderRequest(event, none, Date.now())!.headers, 'no secret, no signature header')
})

t.test('planned operations: vrrp.switchover and agent.maintenance in every format; a planned FAULT pages nobody', async (t) => {
  const switched: AgentEvent = { id: 'msg_0006253f1a2b3c4d0011223345', type: 'vrrp.switchover', timestamp: event.timestamp, data: { node: 'haproxy1', from: 'haproxy1', to: 'haproxy2', forced: false, duration_ms: 14 } }
  const maint: AgentEvent = { id: 'msg_0006253f1a2b3c4d0011223346', type: 'agent.maintenance', timestamp: event.timestamp, data: { node: 'haproxy1', on: true, reason: 'kernel update' } }
  const plannedFault: AgentEvent = { ...event, data: { ...event.data, planned: 'switchover' } }
  const std = JSON.parse(renderRequest(switched, webhook('standard'), Date.now())!.body)
  t.same(std.data, switched.data, 'standard: the data as it is')
  t.equal(JSON.parse(renderRequest(switched, webhook('slack'), Date.now())!.body).text, 'haproxy1: switchover: VIP moved from haproxy1 to haproxy2 in 14 ms')
  t.equal(JSON.parse(renderRequest(maint, webhook('slack'), Date.now())!.body).text, 'haproxy1: maintenance ON: kernel update (out of MASTER until turned off)')
  t.equal(JSON.parse(renderRequest({ ...maint, data: { node: 'haproxy1', on: false, reason: null } }, webhook('slack'), Date.now())!.body).text, 'haproxy1: maintenance off')
  t.match(JSON.parse(renderRequest(plannedFault, webhook('slack'), Date.now())!.body).text, /is FAULT \(was MASTER\), priority 250 \(planned: switchover\)$/)
  t.equal(renderRequest(switched, webhook('pagerduty'), Date.now()), null, 'pagerduty: a switchover is no incident')
  t.equal(renderRequest(maint, webhook('pagerduty'), Date.now()), null, 'nor maintenance')
  t.equal(renderRequest(plannedFault, webhook('pagerduty'), Date.now()), null, 'nor the FAULT it planned')
  t.match(JSON.parse(renderRequest({ ...plannedFault, data: { ...plannedFault.data, state: 'MASTER' } }, webhook('pagerduty'), Date.now())!.body), { event_action: 'resolve' }, 'what follows still resolves')
  const { hookEnvironment } = await import('../../src/webhooks/exec-sink.js')
  t.match(hookEnvironment(switched, 'hook'), { HA_AGENT_EVENT_TYPE: 'vrrp.switchover', HA_AGENT_FROM: 'haproxy1', HA_AGENT_TO: 'haproxy2', HA_AGENT_FORCED: 'false', HA_AGENT_DURATION_MS: '14' })
  t.match(hookEnvironment(maint, 'hook'), { HA_AGENT_ON: 'true', HA_AGENT_REASON: 'kernel update' })
  t.match(hookEnvironment(plannedFault, 'hook'), { HA_AGENT_STATE: 'FAULT', HA_AGENT_PLANNED: 'switchover' })
})
