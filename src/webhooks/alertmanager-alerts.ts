// What ha-agent tells Alertmanager, as data: each condition that holds (an
// instance in FAULT, split brain, a failing check, dead letters) is an alert in
// Alertmanager's POST /api/v2/alerts shape. Pure: the sink
// (alertmanager-sink.ts) keeps the book of firing alerts, sends and persists.
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
}

export interface AlertEvent {
  id: string
  type: string
  timestamp: string
  data: Record<string, unknown>
}

// --- the alerts, one builder each: events and conditions make identical labels ---

type Extra = Labels

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

export function testAlert(node: string, id: string, startsAt: string, until: number, extra: Extra = {}): BookAlert {
  return alert({ alertname: ALERTNAMES.test, node, severity: 'info', test_id: id }, extra, {
    summary: `ha-agent test alert from ${node}`,
    description: 'Sent by `ha-agent webhook test` to show that alerts from ha-agent reach Alertmanager and its receivers. It resolves by itself within 5 minutes.',
  }, startsAt, until)
}

// --- keys, book changes, what to POST ---

/** The alert's identity: its labels, sorted (Alertmanager's fingerprint is a hash of the same). */
export function alertKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')
}

const iso = (ms: number) => new Date(ms).toISOString()
const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b)

function fire(book: Book, a: BookAlert): Change {
  const key = alertKey(a.labels)
  const old = book.get(key)
  // Still the same condition: it keeps the time it began (a timed one runs to the later end).
  const startsAt = old ? old.startsAt : a.startsAt
  const until = old?.until !== undefined && a.until !== undefined ? Math.max(old.until, a.until) : a.until
  return { op: 'fire', key, alert: { ...a, startsAt, ...(until !== undefined ? { until } : {}) } }
}

/**
 * Resolves the alert with these labels at `endsAt`. One the book does not hold
 * (the book was lost, or it fired before an upgrade) is resolved all the same:
 * Alertmanager merges it into the firing one with the same labels, and ignores
 * it when it has none.
 */
function resolve(book: Book, a: BookAlert, endsAt: string): Change {
  const key = alertKey(a.labels)
  const old = book.get(key)
  const alert = old ?? { ...a, startsAt: endsAt }
  // Alertmanager refuses an alert that ends before it starts (HTTP 400).
  return { op: 'resolve', key, alert, endsAt: later(endsAt, alert.startsAt) }
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v))

/** What an event changes. Events that are no condition (agent.heartbeat) change nothing. */
export function changesForEvent(book: Book, event: AlertEvent, nowMs: number, extra: Extra = {}): Change[] {
  const d = event.data
  const node = str(d.node)
  const at = event.timestamp
  switch (event.type) {
    case 'vrrp.transition': {
      const instance = str(d.instance)
      const fault = vrrpFaultAlert(node, instance, at, extra, d.priority as number | null | undefined)
      const stopped = vrrpStoppedAlert(node, instance, at, extra)
      // FAULT fires its alert, STOP its own; any other state (MASTER, BACKUP, DELETED) ends both.
      if (d.state === 'FAULT') return [fire(book, fault), resolve(book, stopped, at)]
      if (d.state === 'STOP') return [fire(book, stopped), resolve(book, fault, at)]
      return [resolve(book, fault, at), resolve(book, stopped, at)]
    }
    case 'check.failed':
      return [fire(book, checkFailingAlert(node, str(d.check), at, extra, str(d.detail)))]
    case 'check.recovered':
      return [resolve(book, checkFailingAlert(node, str(d.check), at, extra), at)]
    case 'cluster.split_brain':
      return [fire(book, splitBrainAlert(node, str(d.instance), (d.peers as string[]) ?? [], str(d.since) || at, extra))]
    case 'cluster.split_brain_resolved':
      return [resolve(book, splitBrainAlert(node, str(d.instance), (d.peers as string[]) ?? [], at, extra), at)]
    case 'cluster.flap_damped':
      return [fire(book, flapDampedAlert(node, at, Date.parse(at) + FLAP_ALERT_MS, extra, str(d.reason)))]
    case 'agent.test':
      // From now, not from when it was queued: the operator is waiting to see it arrive.
      return [fire(book, testAlert(node, event.id, iso(nowMs), nowMs + TEST_ALERT_MS, extra))]
    default:
      return []
  }
}

type Kind = 'vrrp' | 'check' | 'split_brain' | 'dead_letters' | 'timed' | 'other'

function kindOf(a: BookAlert): Kind {
  if (a.until !== undefined) return 'timed'
  switch (a.labels.alertname) {
    case ALERTNAMES.vrrpFault:
    case ALERTNAMES.vrrpStopped:
      return 'vrrp'
    case ALERTNAMES.checkFailing:
      return 'check'
    case ALERTNAMES.splitBrain:
      return 'split_brain'
    case ALERTNAMES.deadLetters:
      return 'dead_letters'
    default:
      return 'other'
  }
}

/** The event type that carries each kind (a webhook's `events` list decides whether it wants the kind). */
const KIND_EVENT: Partial<Record<Kind, string>> = { vrrp: 'vrrp.transition', check: 'check.failed', split_brain: 'cluster.split_brain' }

/**
 * The recorded state of a VRRP instance, if it is at least as new as the last
 * transition event delivered for it. `ha-agent notify` writes the event before
 * the state file, and a full disk can keep the state file behind: until it
 * catches up, the events are the better word.
 */
function vrrpState(c: AlertConditions, instance: string | undefined, seen: ReadonlyMap<string, number> | undefined): { state: string } | null | undefined {
  if (!c.vrrp || instance === undefined) return undefined
  const i = c.vrrp.find((v) => v.instance === instance)
  const last = seen?.get(instance)
  if (last !== undefined && (!i?.since || Date.parse(i.since) < last)) return undefined
  return i ?? null
}

/** Whether the condition behind a firing alert holds now: true, false, or undefined when the conditions do not say. */
function holds(a: BookAlert, c: AlertConditions, seen: ReadonlyMap<string, number> | undefined): boolean | undefined {
  const l = a.labels
  switch (kindOf(a)) {
    case 'vrrp': {
      const i = vrrpState(c, l.vrrp_instance, seen)
      if (i === undefined) return undefined
      return i?.state === (l.alertname === ALERTNAMES.vrrpFault ? 'FAULT' : 'STOP')
    }
    case 'check': {
      if (!c.checks) return undefined
      const check = c.checks.find((x) => x.name === l.check)
      if (!check) return false // no longer configured
      return check.status === undefined ? undefined : check.status === 'fail'
    }
    case 'split_brain':
      return c.splitBrain ? c.splitBrain.suspected.includes(l.vrrp_instance ?? '') : undefined
    case 'dead_letters':
      return c.deadLetters ? (c.deadLetters.find((w) => w.webhook === l.webhook)?.count ?? 0) > 0 : undefined
    case 'timed':
      return undefined
    case 'other':
      // not an alert this version makes (a book from another version): nobody would end it
      return false
  }
}

/** The alerts the conditions say hold now. */
function conditionAlerts(c: AlertConditions, node: string, nowMs: number, extra: Extra, seen: ReadonlyMap<string, number> | undefined): BookAlert[] {
  const now = iso(nowMs)
  const out: BookAlert[] = []
  for (const v of c.vrrp ?? []) {
    if (vrrpState(c, v.instance, seen) === undefined) continue
    if (v.state === 'FAULT') out.push(vrrpFaultAlert(node, v.instance, v.since ?? now, extra))
    if (v.state === 'STOP') out.push(vrrpStoppedAlert(node, v.instance, v.since ?? now, extra))
  }
  for (const check of c.checks ?? []) if (check.status === 'fail') out.push(checkFailingAlert(node, check.name, now, extra, check.detail))
  for (const e of c.splitBrain?.reported ?? []) out.push(splitBrainAlert(node, e.instance, e.peers, e.since, extra))
  for (const w of c.deadLetters ?? []) if (w.count > 0) out.push(deadLettersAlert(node, w.webhook, w.count, now, extra))
  return out
}

const sameLabels = (a: Labels, b: Labels) => alertKey(a) === alertKey(b)

export interface ReconcileOptions {
  nowMs: number
  /** the node's name when the conditions do not give one (alerts fired from conditions need it) */
  node: string
  /** the webhook's own labels, on every alert */
  extra?: Extra
  /**
   * No event waits in the webhook's queue. Conditions fire missing alerts only
   * then: queued events come first, in order (an old MASTER still queued must
   * not resolve a FAULT that conditions fired ahead of it). Dead letters have no
   * events and fire regardless.
   */
  idle: boolean
  /** the webhook's `events` list: kinds whose event it does not want are neither fired nor kept */
  events?: readonly string[] | undefined
  /** per VRRP instance, the time of the last transition event delivered (vrrpEventTime) */
  vrrpSeen?: ReadonlyMap<string, number>
}

/**
 * Book against conditions: firing alerts whose condition ended are resolved
 * (now), missing ones fired, timed ones past their end dropped (Alertmanager
 * ended them itself, at the endsAt they were sent with), and alerts sent with
 * other webhook labels than the configured ones relabelled.
 */
export function reconcile(book: Book, c: AlertConditions, o: ReconcileOptions): { changes: Change[]; expired: string[] } {
  const extra = o.extra ?? {}
  const now = iso(o.nowMs)
  const node = c.node ?? o.node
  const wanted = (k: Kind) => !o.events || !KIND_EVENT[k] || o.events.includes(KIND_EVENT[k]!)
  const changes: Change[] = []
  const expired: string[] = []
  const ending = new Set<string>()
  for (const [key, a] of book) {
    const kind = kindOf(a)
    if (kind === 'timed') {
      if (a.until! <= o.nowMs) expired.push(key)
      continue
    }
    const ended = (c.node !== undefined && a.labels.node !== c.node) || !wanted(kind) || holds(a, c, o.vrrpSeen) === false
    if (ended) {
      changes.push({ op: 'resolve', key, alert: a, endsAt: later(now, a.startsAt) })
      ending.add(key)
      continue
    }
    const own = Object.fromEntries(Object.entries(a.labels).filter(([k]) => (RESERVED_LABELS as readonly string[]).includes(k)))
    const relabelled = { ...extra, ...own }
    if (!sameLabels(relabelled, a.labels)) {
      // The webhook's labels changed: the old alert ends, the same one goes on under the new labels.
      changes.push({ op: 'resolve', key, alert: a, endsAt: later(now, a.startsAt) })
      changes.push({ op: 'fire', key: alertKey(relabelled), alert: { ...a, labels: relabelled } })
      ending.add(key)
    }
  }
  for (const a of conditionAlerts(c, node, o.nowMs, extra, o.vrrpSeen)) {
    const kind = kindOf(a)
    if (!wanted(kind)) continue
    const key = alertKey(a.labels)
    const old = book.get(key)
    if (old && !ending.has(key)) {
      // Dead letters: the count in the annotations follows the conditions.
      if (kind === 'dead_letters' && old.annotations.summary !== a.annotations.summary) changes.push({ op: 'fire', key, alert: { ...a, startsAt: old.startsAt } })
      continue
    }
    if (old || changes.some((ch) => ch.op === 'fire' && ch.key === key)) continue
    if (kind === 'dead_letters' || o.idle) changes.push({ op: 'fire', key, alert: a })
  }
  return { changes, expired }
}

/** A vrrp.transition's instance and time, to remember once it is delivered (ReconcileOptions.vrrpSeen). */
export function vrrpEventTime(event: AlertEvent): { instance: string; at: number } | undefined {
  if (event.type !== 'vrrp.transition' || typeof event.data.instance !== 'string') return undefined
  const at = Date.parse(event.timestamp)
  return Number.isNaN(at) ? undefined : { instance: event.data.instance, at }
}

/** The book after the changes were delivered. */
export function applyChanges(book: Book, changes: readonly Change[], expired: readonly string[] = []): Map<string, BookAlert> {
  const next = new Map(book)
  for (const key of expired) next.delete(key)
  for (const ch of changes) {
    if (ch.op === 'fire') next.set(ch.key, ch.alert)
    else next.delete(ch.key)
  }
  return next
}

/** A firing alert as sent: it ends by itself ENDS_AFTER_INTERVALS resend intervals from now unless sent again. */
export function firingAlert(a: BookAlert, nowMs: number, resendMs: number): PostableAlert {
  const endsAt = iso(a.until ?? nowMs + ENDS_AFTER_INTERVALS * resendMs)
  return { labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: later(endsAt, a.startsAt) }
}

/**
 * The request body: the changes, then (for a resend) every other firing alert
 * of the book. Timed alerts past their end are not sent again.
 */
export function postableAlerts(changes: readonly Change[], nowMs: number, resendMs: number, rest?: Book): PostableAlert[] {
  const out: PostableAlert[] = []
  const seen = new Set<string>()
  for (const ch of changes) {
    seen.add(ch.key)
    if (ch.op === 'fire') out.push(firingAlert(ch.alert, nowMs, resendMs))
    else out.push({ labels: ch.alert.labels, annotations: ch.alert.annotations, startsAt: ch.alert.startsAt, endsAt: ch.endsAt })
  }
  for (const [key, a] of rest ?? []) {
    if (seen.has(key) || (a.until !== undefined && a.until <= nowMs)) continue
    out.push(firingAlert(a, nowMs, resendMs))
  }
  return out
}
