// The book of firing Alertmanager alerts against what holds now (the daemon's
// AlertConditions), each resend interval: alerts whose condition ended without
// an event are resolved, those that hold but were never sent are fired (dead
// letters have no events), timed ones past their end are dropped. Pure, as the
// alerts (alertmanager-alerts.ts) and the changes events make
// (alertmanager-changes.ts) are.
import {
  ALERTNAMES, alertKey, checkFailingAlert, deadLettersAlert, iso, later, maintenanceAlert, RESERVED_LABELS, splitBrainAlert, vrrpFaultAlert, vrrpStoppedAlert,
  type AlertConditions, type Book, type BookAlert, type Change, type Extra, type Labels,
} from './alertmanager-alerts.js'

type Kind = 'vrrp' | 'check' | 'split_brain' | 'dead_letters' | 'maintenance' | 'timed' | 'other'

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
    case ALERTNAMES.maintenance:
      return 'maintenance'
    default:
      return 'other'
  }
}

/** The event type that carries each kind (a webhook's `events` list decides whether it wants the kind). */
const KIND_EVENT: Partial<Record<Kind, string>> = { vrrp: 'vrrp.transition', check: 'check.failed', split_brain: 'cluster.split_brain', maintenance: 'agent.maintenance' }

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
      if (l.alertname === ALERTNAMES.vrrpFault) return i?.state === 'FAULT' && !c.planned
      return i?.state === 'STOP'
    }
    case 'maintenance':
      return c.maintenance ? c.maintenance.on : undefined
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
    if (v.state === 'FAULT' && !c.planned) out.push(vrrpFaultAlert(node, v.instance, v.since ?? now, extra))
    if (v.state === 'STOP') out.push(vrrpStoppedAlert(node, v.instance, v.since ?? now, extra))
  }
  for (const check of c.checks ?? []) if (check.status === 'fail') out.push(checkFailingAlert(node, check.name, now, extra, check.detail))
  for (const e of c.splitBrain?.reported ?? []) out.push(splitBrainAlert(node, e.instance, e.peers, e.since, extra))
  for (const w of c.deadLetters ?? []) if (w.count > 0) out.push(deadLettersAlert(node, w.webhook, w.count, now, extra))
  if (c.maintenance?.on) out.push(maintenanceAlert(node, c.maintenance.since ?? now, extra, c.maintenance.reason))
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
