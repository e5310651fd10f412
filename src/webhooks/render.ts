// One event, three receivers' shapes (contract section 3); format alertmanager
// has a sink of its own (alertmanager-sink.ts), format exec too (exec-sink.ts).
import { createHmac } from 'node:crypto'
import { secretKey, type WebhookConfig } from '../config/index.js'
import type { AgentEvent } from '../events/index.js'

export interface RenderedRequest {
  headers: Record<string, string>
  body: string
}

/**
 * Standard Webhooks: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>,
 * the key being the base64-decoded part of a `whsec_` secret (as the spec's
 * verifier libraries decode it; the config refuses any other form).
 */
export function signStandard(secret: string, id: string, timestampSeconds: number, body: string): string {
  return 'v1,' + createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')
}

/** The webhook-signature header: one `v1,...` per secret, space-separated (a receiver rotating its key accepts either). */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((s) => signStandard(s, id, timestampSeconds, body)).join(' ')
}

/** The `standard` format's body (also what an exec hook reads on its stdin). */
export function standardBody(event: AgentEvent): { type: string; timestamp: string; data: Record<string, unknown> } {
  return { type: event.type, timestamp: event.timestamp, data: event.data }
}

function summary(event: AgentEvent): string {
  const d = event.data as Record<string, unknown>
  switch (event.type) {
    case 'vrrp.transition':
      return `${d.node}: ${d.kind === 'GROUP' ? 'group' : 'instance'} ${d.instance} is ${d.state}` +
        (d.previous_state ? ` (was ${d.previous_state})` : '') + (d.priority != null ? `, priority ${d.priority}` : '') +
        (d.planned ? ` (planned: ${d.planned})` : '')
    case 'vrrp.switchover':
      return `${d.node}: switchover${d.forced ? ' (forced)' : ''}: VIP moved from ${d.from} to ${d.to}` + (d.duration_ms != null ? ` in ${d.duration_ms} ms` : '')
    case 'agent.maintenance':
      return `${d.node}: maintenance ${d.on ? `ON${d.reason ? `: ${d.reason}` : ''} (out of MASTER until turned off)` : 'off'}`
    case 'check.failed':
      return `${d.node}: check ${d.check} failed: ${d.detail}`
    case 'check.recovered':
      return `${d.node}: check ${d.check} recovered: ${d.detail}`
    case 'cluster.split_brain':
      return `${d.node}: SPLIT BRAIN on ${d.instance}: MASTER on ${[d.node, ...((d.peers as string[]) ?? [])].join(' and ')}`
    case 'cluster.split_brain_resolved':
      return `${d.node}: split brain on ${d.instance} resolved`
    case 'cluster.flap_damped':
      return `${d.node}: flapping, holding state: ${d.reason ?? ''}`
    case 'agent.heartbeat':
      return `${d.node}: ha-agent heartbeat (${d.state ?? 'running'})`
    case 'agent.test':
      return `${d.node}: ha-agent test event`
  }
}

type Severity = 'critical' | 'error' | 'warning' | 'info'

/**
 * What an event means for PagerDuty: open (trigger) or close (resolve) an
 * incident, and which one. (Alertmanager's alerts: alertmanager-alerts.ts.)
 *   vrrp.transition   FAULT, STOP -> trigger critical; MASTER, BACKUP, DELETED -> resolve; key node/instance
 *   check.failed      trigger error; check.recovered resolves it; key node/check/NAME (its own incident)
 *   cluster.split_brain[_resolved]  trigger critical / resolve; key from the event (same on both nodes)
 *   cluster.flap_damped  trigger warning; key node/flap
 *   agent.test        trigger info (the operator asked to see one arrive); key node/test
 *   agent.heartbeat   not sent: a heartbeat is not an incident (counted as delivered)
 *   vrrp.switchover, agent.maintenance, and a FAULT they planned (data.planned):
 *                     not sent: what an operator did on purpose is not an incident
 */
function alertAction(event: AgentEvent): { key: string; action: 'trigger' | 'resolve'; severity: Severity } | null {
  const d = event.data as Record<string, unknown>
  switch (event.type) {
    case 'vrrp.transition': {
      const bad = d.state === 'FAULT' || d.state === 'STOP'
      // The FAULT of a hand-over or of maintenance: asked for, nobody to wake.
      if (bad && d.planned) return null
      return { key: `${d.node}/${d.instance}`, action: bad ? 'trigger' : 'resolve', severity: bad ? 'critical' : 'info' }
    }
    case 'check.failed':
      return { key: `${d.node}/check/${d.check}`, action: 'trigger', severity: 'error' }
    case 'check.recovered':
      return { key: `${d.node}/check/${d.check}`, action: 'resolve', severity: 'info' }
    case 'cluster.split_brain':
      return { key: String(d.dedup_key ?? `split_brain/${d.instance}`), action: 'trigger', severity: 'critical' }
    case 'cluster.split_brain_resolved':
      return { key: String(d.dedup_key ?? `split_brain/${d.instance}`), action: 'resolve', severity: 'info' }
    case 'cluster.flap_damped':
      return { key: `${d.node}/flap`, action: 'trigger', severity: 'warning' }
    case 'agent.test':
      return { key: `${d.node}/test`, action: 'trigger', severity: 'info' }
    case 'agent.heartbeat':
      // A heartbeat is not an incident: alerting receivers do not get one.
      return null
    case 'vrrp.switchover':
    case 'agent.maintenance':
      // Planned operations: the on-call person did them, or knows.
      return null
  }
}

function slackBody(event: AgentEvent): unknown {
  const text = summary(event)
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${event.type}*\n${text}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${event.timestamp} · ${event.id}` }] },
    ],
  }
}

function pagerdutyBody(event: AgentEvent, webhook: WebhookConfig): unknown | null {
  const a = alertAction(event)
  if (!a) return null
  const d = event.data as Record<string, unknown>
  return {
    routing_key: webhook.routingKey,
    event_action: a.action,
    dedup_key: a.key,
    payload: {
      summary: summary(event),
      source: String(d.node ?? 'ha-agent'),
      severity: a.severity,
      timestamp: event.timestamp,
      component: 'keepalived',
      group: String(d.instance ?? ''),
      class: event.type,
      custom_details: d,
    },
  }
}

/** The HTTP request for one attempt, or null when this format does not carry the event. */
export function renderRequest(event: AgentEvent, webhook: WebhookConfig, nowMs: number): RenderedRequest | null {
  let payload: unknown
  switch (webhook.format) {
    case 'standard':
      payload = standardBody(event)
      break
    case 'slack':
      payload = slackBody(event)
      break
    case 'pagerduty':
      payload = pagerdutyBody(event, webhook)
      break
    case 'alertmanager':
      // a client of Alertmanager's API with alerts of its own, not one request per event (alertmanager-sink.ts)
      return null
    case 'exec':
      // a local command, not a request (exec-sink.ts)
      return null
  }
  if (payload === null) return null
  const body = JSON.stringify(payload)
  const timestamp = Math.floor(nowMs / 1000)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'ha-agent',
    'webhook-id': event.id,
    'webhook-timestamp': String(timestamp),
  }
  if (webhook.secrets?.length) headers['webhook-signature'] = signatureHeader(webhook.secrets, event.id, timestamp, body)
  return { headers, body }
}
