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
  t.equal(
    signStandard('plain-secret', 'msg_1', 1, 'x'),
    'v1,' + createHmac('sha256', 'plain-secret').update('msg_1.1.x').digest('base64'),
    'a non-whsec_ secret is used as bytes',
  )
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

t.test('alertmanager v4 and slack shapes', async (t) => {
  const am = JSON.parse(renderRequest(event, webhook('alertmanager'), Date.now())!.body)
  t.match(am, { version: '4', status: 'firing', receiver: 'w', alerts: [{ status: 'firing', labels: { node: 'haproxy1', instance: 'VI_1', state: 'FAULT' } }] })
  t.type(am.groupKey, 'string')
  const slack = JSON.parse(renderRequest(event, webhook('slack'), Date.now())!.body)
  t.match(slack.text, 'haproxy1: instance VI_1 is FAULT (was MASTER), priority 250')
  t.equal(slack.blocks[0].type, 'section')
})
