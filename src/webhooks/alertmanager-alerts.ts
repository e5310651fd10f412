// What ha-agent tells Alertmanager, as data: each condition that holds (an
// instance in FAULT, split brain, a failing check, dead letters) is an alert in
// Alertmanager's POST /api/v2/alerts shape. This file defines the alerts: their
// names, labels and texts (one builder each, so events and conditions make
// identical labels) and their identity. What changes the book of firing alerts
// lives beside it, pure as this: events (alertmanager-changes.ts) and what holds
// now (alertmanager-reconcile.ts). The sink (alertmanager-sink.ts) sends, and
// keeps the book in its file (alertmanager-book-file.ts) across restarts.
//
// Two sources change the book. Events, in order through the durable lane, carry
// history (a FAULT that lasted two seconds still fires and resolves). What holds
// now (AlertConditions, from the daemon) makes the book converge with reality
// where no event will come: a check that recovered while the daemon was down,
// dead letters (they have no events), a firing event that was dead-lettered.

import { RESERVED_LABELS } from '../config/index.js'

export type Labels = Readonly<Record<string, string>>

/** One element of Alertmanager's PostableAlerts (api/v2/openapi.yaml). */
export interface PostableAlert {
  labels: Labels
  annotations: Labels
  startsAt: string
  endsAt: string
}

export const ALERTNAMES = {
  /** same name, condition and severity as the Prometheus rule in monitoring/ha-agent.rules.yml */
  vrrpFault: 'HaAgentVrrpFault',
  vrrpStopped: 'HaAgentVrrpStopped',
  splitBrain: 'HaAgentSplitBrain',
  checkFailing: 'HaAgentCheckFailing',
  deadLetters: 'HaAgentDeadLetters',
  flapDamped: 'HaAgentFlapDamped',
  maintenance: 'HaAgentMaintenance',
  test: 'HaAgentTest',
} as const

export { RESERVED_LABELS }

/** a firing alert is sent with endsAt = now + this many resend intervals: Alertmanager resolves it if ha-agent stops sending */
export const ENDS_AFTER_INTERVALS = 4
/** agent.test: a test alert that resolves by itself */
export const TEST_ALERT_MS = 5 * 60_000
/** cluster.flap_damped: fires this long after the event (as the Prometheus rule's increase(...[15m])) */
export const FLAP_ALERT_MS = 15 * 60_000

/** A firing alert as the book keeps it. */
export interface BookAlert {
  labels: Labels
  annotations: Labels
  startsAt: string
  /** ms epoch: a timed alert (test, flap damping) ends by itself then and is not sent after it */
  until?: number
}

/** Firing alerts by key (alertKey of their labels). */
export type Book = ReadonlyMap<string, BookAlert>

export type Change = { op: 'fire'; key: string; alert: BookAlert } | { op: 'resolve'; key: string; alert: BookAlert; endsAt: string }

/**
 * What holds now, as the daemon knows it. A field left out is unknown (the
 * daemon just started, the peers were not polled yet): nothing of that kind is
 * fired or resolved on its word.
 */
export interface AlertConditions {
  /** this node's name; alerts of another name (the node was renamed) are resolved */
  node?: string
  /** every VRRP instance and group keepalived reported, with its current state */
  vrrp?: ReadonlyArray<{ instance: string; state: string; since?: string }>
  /** the checks that run, each with what the debouncer established (undefined: not yet) */
  checks?: ReadonlyArray<{ name: string; status: 'pass' | 'fail' | undefined; detail?: string }>
  splitBrain?: {
    /** episodes this node reports (the one whose name sorts first among the MASTERs) */
    reported: ReadonlyArray<{ instance: string; peers: readonly string[]; since: string }>
    /** instances this node and a reachable peer both hold as MASTER now */
    suspected: readonly string[]
  }
  /** dead letters per webhook */
  deadLetters?: ReadonlyArray<{ webhook: string; count: number }>
  /** `ha-agent maintenance` on this node */
  maintenance?: { on: boolean; since?: string | null; reason?: string | null }
  /** a FAULT here is one an operator asked for (maintenance, a switchover under way): it fires no FAULT alert */
  planned?: boolean
}

export interface AlertEvent {
  id: string
  type: string
  timestamp: string
  data: Record<string, unknown>
}

// --- the alerts, one builder each: events and conditions make identical labels ---

/** a webhook's own labels (its `labels` key), on every alert */
export type Extra = Labels

const alert = (labels: Record<string, string>, extra: Extra, annotations: Record<string, string>, startsAt: string, until?: number): BookAlert => ({
  labels: { ...extra, ...labels },
  annotations,
  startsAt,
  ...(until !== undefined ? { until } : {}),
})

export function vrrpFaultAlert(node: string, instance: string, startsAt: string, extra: Extra = {}, priority?: number | null): BookAlert {
  return alert({ alertname: ALERTNAMES.vrrpFault, node, vrrp_instance: instance, severity: 'warning' }, extra, {
    summary: `${instance} is in FAULT on ${node}`,
    description:
      `keepalived put VRRP instance ${instance} on ${node} in FAULT${priority != null ? ` (priority ${priority})` : ''}: this node cannot hold ` +
      'the virtual IP, the pair has no standby. Usually HAProxy is gone there or an interface is down; `ha-agent status` on the node says why.',
  }, startsAt)
}

export function vrrpStoppedAlert(node: string, instance: string, startsAt: string, extra: Extra = {}): BookAlert {
  return alert({ alertname: ALERTNAMES.vrrpStopped, node, vrrp_instance: instance, severity: 'warning' }, extra, {
    summary: `${instance} is stopped on ${node}`,
    description:
      `keepalived stopped VRRP instance ${instance} on ${node} (keepalived was stopped, or the instance left its configuration): ` +
      'this node cannot take over the virtual IP. It resolves when keepalived reports the instance again.',
  }, startsAt)
}

export function splitBrainAlert(node: string, instance: string, peers: readonly string[], startsAt: string, extra: Extra = {}): BookAlert {
  const masters = [node, ...peers].join(' and ')
  return alert({ alertname: ALERTNAMES.splitBrain, node, vrrp_instance: instance, severity: 'critical' }, extra, {
    summary: `Split brain: ${instance} is MASTER on ${masters}`,
    description:
      `${node} sees itself and ${peers.join(', ') || 'a peer'} both MASTER for VRRP instance ${instance}: both may hold the virtual IP. ` +
      'Usually the nodes cannot hear each other\'s VRRP adverts (network split, firewall, wrong virtual_router_id or auth). `ha-agent status` shows the peers\' view.',
  }, startsAt)
}

export function checkFailingAlert(node: string, check: string, startsAt: string, extra: Extra = {}, detail?: string): BookAlert {
  return alert({ alertname: ALERTNAMES.checkFailing, node, check, severity: 'warning' }, extra, {
    summary: `Check ${check} failing on ${node}`,
    description:
      `The ${check} health check fails on ${node}${detail ? `: ${detail}` : ''}. This node's VRRP priority is lowered, or it is in FAULT ` +
      'if the peer passes the check. `ha-agent check --json` on the node shows the detail.',
  }, startsAt)
}

export function deadLettersAlert(node: string, webhook: string, count: number, startsAt: string, extra: Extra = {}): BookAlert {
  return alert({ alertname: ALERTNAMES.deadLetters, node, webhook, severity: 'warning' }, extra, {
    summary: `${count} dead letter${count === 1 ? '' : 's'} for webhook ${webhook} on ${node}`,
    description:
      `${count} event${count === 1 ? ' to webhook ' + webhook + ' was' : 's to webhook ' + webhook + ' were'} given up on (max_age passed, or the receiver ` +
      `answered 4xx): its receiver never got them. Fix the receiver, then on ${node}: \`ha-agent webhook dead --name ${webhook}\` and ` +
      `\`ha-agent webhook replay --name ${webhook}\`.`,
  }, startsAt)
}

export function flapDampedAlert(node: string, startsAt: string, until: number, extra: Extra = {}, reason?: string): BookAlert {
  return alert({ alertname: ALERTNAMES.flapDamped, node, severity: 'warning' }, extra, {
    summary: `Flap damping held the track_file on ${node}`,
    description:
      `A deep check on ${node} changed state so often that ha-agent stopped following it (cluster.flap_max within cluster.flap_window_ms)` +
      `${reason ? `: ${reason}` : ''}. A dead HAProxy still moves the VIP; intermittent failures do not. Resolves by itself 15 minutes after the last damping.`,
  }, startsAt, until)
}

export function maintenanceAlert(node: string, startsAt: string, extra: Extra = {}, reason?: string | null): BookAlert {
  return alert({ alertname: ALERTNAMES.maintenance, node, severity: 'info' }, extra, {
    summary: `${node} is in maintenance${reason ? `: ${reason}` : ''}`,
    description:
      `An operator put ${node} in maintenance (\`ha-agent maintenance on\`): it stays out of MASTER, in FAULT, until \`ha-agent maintenance off\`, ` +
      'also if its peer fails: meanwhile the pair has no standby. Its FAULT fires no HaAgentVrrpFault.',
  }, startsAt)
}

export function testAlert(node: string, id: string, startsAt: string, until: number, extra: Extra = {}): BookAlert {
  return alert({ alertname: ALERTNAMES.test, node, severity: 'info', test_id: id }, extra, {
    summary: `ha-agent test alert from ${node}`,
    description: 'Sent by `ha-agent webhook test` to show that alerts from ha-agent reach Alertmanager and its receivers. It resolves by itself within 5 minutes.',
  }, startsAt, until)
}

// --- identity and time ---

/** The alert's identity: its labels, sorted (Alertmanager's fingerprint is a hash of the same). */
export function alertKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')
}

/** ms epoch as Alertmanager's ISO-8601 */
export const iso = (ms: number) => new Date(ms).toISOString()
/** the later of two ISO-8601 times */
export const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b)
