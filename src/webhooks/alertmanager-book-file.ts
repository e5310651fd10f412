// The book of a webhook's firing Alertmanager alerts, kept under state_dir
// (alertmanager/<webhook>.json) so that a restarted daemon goes on sending them
// (Alertmanager forgets an alert that is not sent again). Only the sink uses it;
// this module alone reads and writes the file.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describeSystemError } from '../errors/index.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { readJsonFile } from '../fs/read.js'
import type { Logger } from '../log/index.js'
import { alertKey, type Book, type BookAlert } from './alertmanager-alerts.js'

/** The file that keeps a webhook's firing alerts (only this module reads and writes it). */
export const alertmanagerBookPath = (stateDir: string, webhook: string) => join(stateDir, 'alertmanager', `${webhook}.json`)

interface BookFile {
  webhook: string
  alerts: BookAlert[]
  /** per VRRP instance, the time of the last transition delivered (ISO-8601) */
  vrrp_seen: Record<string, string>
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isStringMap = (v: unknown): v is Record<string, string> => isRecord(v) && Object.values(v).every((x) => typeof x === 'string')

function parseBook(value: unknown): { alerts: Map<string, BookAlert>; seen: Map<string, number> } {
  const f = value as Partial<BookFile>
  const alerts = new Map<string, BookAlert>()
  for (const a of Array.isArray(f.alerts) ? f.alerts : []) {
    if (!isRecord(a) || !isStringMap(a.labels) || !isStringMap(a.annotations) || typeof a.startsAt !== 'string' || Number.isNaN(Date.parse(a.startsAt))) continue
    const until = typeof a.until === 'number' && Number.isFinite(a.until) ? a.until : undefined
    alerts.set(alertKey(a.labels), { labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, ...(until !== undefined ? { until } : {}) })
  }
  const seen = new Map<string, number>()
  for (const [instance, at] of Object.entries(isStringMap(f.vrrp_seen) ? f.vrrp_seen : {})) {
    const ms = Date.parse(at)
    if (!Number.isNaN(ms)) seen.set(instance, ms)
  }
  return { alerts, seen }
}

/**
 * The book as saved, or undefined (logged) when there is none or it cannot be
 * read: the sink then starts with none, and Alertmanager ends the alerts it has
 * within 4 resend intervals.
 */
export function readBookFile(stateDir: string, webhook: string, log: Logger): { alerts: Map<string, BookAlert>; seen: Map<string, number> } | undefined {
  const path = alertmanagerBookPath(stateDir, webhook)
  const r = readJsonFile(path)
  if ('missing' in r) return undefined
  if ('unreadable' in r) {
    log.error({ path, err: describeSystemError(r.unreadable) }, 'cannot read the firing Alertmanager alerts; starting with none (Alertmanager ends the ones it has within 4 resend intervals)')
    return undefined
  }
  try {
    if ('invalid' in r) throw r.invalid
    // parseBook throws on a file of `null`: no book either
    return parseBook(r.value)
  } catch (err) {
    log.error({ path, err: (err as Error).message }, 'the firing Alertmanager alerts file is not JSON; starting with none (Alertmanager ends the ones it has within 4 resend intervals)')
    return undefined
  }
}

/** Saves the book (fsynced); false, logged, when it cannot. */
export function writeBookFile(stateDir: string, webhook: string, book: Book, seen: ReadonlyMap<string, number>, log: Logger): boolean {
  const path = alertmanagerBookPath(stateDir, webhook)
  const file: BookFile = {
    webhook,
    alerts: [...book.values()],
    vrrp_seen: Object.fromEntries([...seen].map(([k, v]) => [k, new Date(v).toISOString()])),
  }
  try {
    mkdirSync(join(stateDir, 'alertmanager'), { recursive: true, mode: 0o750 })
    writeFileAtomic(path, JSON.stringify(file), { fsync: true })
    return true
  } catch (err) {
    log.error({ path, err: describeSystemError(err) }, 'cannot save the firing Alertmanager alerts; a restart now would forget them')
    return false
  }
}
