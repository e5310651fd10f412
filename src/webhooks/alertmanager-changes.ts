// What an event changes in the book of firing Alertmanager alerts (FAULT fires,
// MASTER resolves), the book once changes were delivered, and the request body
// that carries them. Pure: the alerts themselves are alertmanager-alerts.ts;
// the sink (alertmanager-sink.ts) sends and keeps the book.
import {
  alertKey, checkFailingAlert, ENDS_AFTER_INTERVALS, FLAP_ALERT_MS, flapDampedAlert, iso, later, maintenanceAlert, splitBrainAlert, TEST_ALERT_MS, testAlert,
  vrrpFaultAlert, vrrpStoppedAlert, type AlertEvent, type Book, type BookAlert, type Change, type Extra, type PostableAlert,
} from './alertmanager-alerts.js'

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
      // A FAULT an operator asked for (maintenance, a switchover's hand-over) fires nothing.
      if (d.state === 'FAULT') return d.planned ? [resolve(book, stopped, at)] : [fire(book, fault), resolve(book, stopped, at)]
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
    case 'agent.maintenance': {
      const m = maintenanceAlert(node, str(d.since) || at, extra, d.reason as string | null | undefined)
      return d.on ? [fire(book, m)] : [resolve(book, m, at)]
    }
    case 'agent.test':
      // From now, not from when it was queued: the operator is waiting to see it arrive.
      return [fire(book, testAlert(node, event.id, iso(nowMs), nowMs + TEST_ALERT_MS, extra))]
    default:
      return []
  }
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
