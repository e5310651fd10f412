// Format alertmanager: a client of Alertmanager's own API (POST {url}/api/v2/alerts),
// the way Prometheus is one. Alertmanager forgets an alert that is not sent
// again (after its endsAt) and loses them all when it restarts, so a client
// re-sends every firing alert while it holds and resolves it with endsAt <= now.
//
// - Events come through the webhook's lane, in order, durable: each changes the
//   alerts it is about (FAULT fires, MASTER resolves) and is delivered at once;
//   the lane retries 5xx/429/network errors and dead-letters 4xx.
// - Every resend interval the sink sends every firing alert again with
//   endsAt = now + 4 intervals (ha-agent gone: Alertmanager resolves them after
//   that), and first makes the alerts agree with what holds now (the daemon's
//   conditions): it resolves alerts whose condition ended without an event, and
//   fires those that hold but were never sent (dead letters have no events).
// - The firing alerts are kept in a file of their own under state_dir
//   (alertmanager-book-file.ts), written atomically after each change, so a
//   restarted daemon goes on sending them.
//
// What the alerts are and how events and conditions change them is pure and
// lives apart (alertmanager-alerts.ts, -changes.ts, -reconcile.ts): this file
// sends, one request at a time, and keeps the book.
import { hostname } from 'node:os'
import { DEFAULT_RESEND_INTERVAL_MS, type WebhookConfig } from '../config/index.js'
import type { Logger } from '../log/index.js'
import type { AlertConditions, Book, BookAlert, Change, PostableAlert } from './alertmanager-alerts.js'
import { readBookFile, writeBookFile } from './alertmanager-book-file.js'
import { applyChanges, changesForEvent, postableAlerts, vrrpEventTime } from './alertmanager-changes.js'
import { reconcile } from './alertmanager-reconcile.js'
import { postAttempt } from './http-sink.js'
import type { Attempt, Sink } from './sink.js'

/** {url}/api/v2/alerts; a url that already ends so is taken as it is. Keeps a path prefix (--web.route-prefix). */
export function alertsUrl(url: string): string {
  const u = new URL(url)
  if (!/\/api\/v2\/alerts\/?$/.test(u.pathname)) u.pathname = u.pathname.replace(/\/*$/, '') + '/api/v2/alerts'
  return u.toString()
}

export interface AlertmanagerSinkOptions {
  webhook: WebhookConfig
  stateDir: string
  logger: Logger
  now?: () => number
  /** what holds now; without it only events and the book's own alerts count */
  conditions?: () => AlertConditions
  /** events waiting in this webhook's queue (conditions fire missing alerts only when none wait) */
  pending?: () => number
}

export interface AlertmanagerSink extends Sink {
  start(): void
  close(): Promise<void>
  /** one resend round now (what the timer does); undefined when there was nothing to send */
  resend(): Promise<Attempt | undefined>
  /** the firing alerts the book holds */
  firing(): BookAlert[]
}

export function createAlertmanagerSink(opts: AlertmanagerSinkOptions): AlertmanagerSink {
  const { webhook, logger } = opts
  const now = opts.now ?? Date.now
  const resendMs = webhook.resend_interval ?? DEFAULT_RESEND_INTERVAL_MS
  const extra = webhook.labels ?? {}
  const log = logger.child({ webhook: webhook.name })
  if (!webhook.url) throw new Error(`webhooks ${webhook.name}: format alertmanager needs a url`)
  const url = alertsUrl(webhook.url)

  let book: Book = new Map()
  const seen = new Map<string, number>()
  let loaded = false
  let started = false
  let closed = false
  let unsaved = false
  let timer: NodeJS.Timeout | undefined
  const closing = new AbortController()
  /** one request at a time: a resend built before a resolve must not arrive after it */
  let chain: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn)
    chain = run.catch(() => undefined)
    return run
  }
  let failing: string | undefined

  const load = () => {
    if (loaded) return
    loaded = true
    const b = readBookFile(opts.stateDir, webhook.name, log)
    if (!b) return
    book = b.alerts
    for (const [k, v] of b.seen) seen.set(k, v)
  }

  const save = () => {
    unsaved = !writeBookFile(opts.stateDir, webhook.name, book, seen, log)
  }

  const post = (alerts: PostableAlert[], signal: AbortSignal): Promise<Attempt> =>
    postAttempt(url, {
      headers: { 'content-type': 'application/json', 'user-agent': 'ha-agent' },
      body: JSON.stringify(alerts),
      timeoutMs: webhook.timeout_ms,
      signal,
      now,
      // Alertmanager says what it refused ("start time must be before end time").
      explainRefusal: true,
    })

  const describe = (changes: readonly Change[]) =>
    changes.map((c) => `${c.op} ${c.alert.labels.alertname}${c.alert.labels.vrrp_instance ? `/${c.alert.labels.vrrp_instance}` : ''}${c.alert.labels.check ? `/${c.alert.labels.check}` : ''}${c.alert.labels.webhook ? `/${c.alert.labels.webhook}` : ''}`)

  const resendRound = async (): Promise<Attempt | undefined> => {
    load()
    const nowMs = now()
    let conditions: AlertConditions = {}
    try {
      conditions = opts.conditions?.() ?? {}
    } catch (err) {
      log.error({ err }, 'cannot tell what holds now; re-sending the firing alerts as they are')
    }
    let idle = false
    try {
      idle = (opts.pending?.() ?? 0) === 0
    } catch {
      // unknown: leave missing alerts to the events
    }
    const { changes, expired } = reconcile(book, conditions, { nowMs, node: hostname(), extra, idle, events: webhook.events, vrrpSeen: seen })
    const alerts = postableAlerts(changes, nowMs, resendMs, book)
    if (!alerts.length) {
      if (expired.length) book = applyChanges(book, [], expired)
      if (expired.length || unsaved) save()
      return undefined
    }
    const attempt = await post(alerts, closing.signal)
    if (closing.signal.aborted) return attempt
    if (attempt.result === 'delivered') {
      book = applyChanges(book, changes, expired)
      if (changes.length || expired.length || unsaved) save()
      if (changes.length) log.info({ changes: describe(changes) }, 'Alertmanager alerts brought in line with what holds now')
      if (failing) log.info({ alerts: alerts.length }, 'Alertmanager takes the firing alerts again')
      failing = undefined
    } else {
      // The next round tries again; a lasting failure is logged once, its end too.
      if (failing !== attempt.detail) log[attempt.result === 'dead' ? 'error' : 'warn']({ url: webhook.url && new URL(webhook.url).origin, reason: attempt.detail, alerts: alerts.length, retry_in_ms: resendMs }, 'cannot re-send the firing alerts to Alertmanager')
      failing = attempt.detail
    }
    return attempt
  }

  const schedule = (ms: number) => {
    clearTimeout(timer)
    if (closed) return
    timer = setTimeout(() => {
      void serial(resendRound)
        .catch((err) => log.error({ err }, 'Alertmanager re-send round failed'))
        .finally(() => schedule(resendMs))
    }, ms)
    timer.unref()
  }

  return {
    start() {
      if (started || closed) return
      started = true
      load()
      // At once: alerts that fired before a restart, and conditions that changed meanwhile.
      schedule(0)
    },
    async close() {
      closed = true
      clearTimeout(timer)
      closing.abort()
      await chain
      if (unsaved) save()
    },
    deliver(event, signal) {
      return serial(async (): Promise<Attempt> => {
        // It may have waited behind a resend while the lane stopped.
        if (signal.aborted) return { result: 'retry', detail: 'abandoned at shutdown' }
        load()
        const nowMs = now()
        const changes = changesForEvent(book, event, nowMs, extra)
        if (!changes.length) return { result: 'delivered', detail: `${event.type} is not an alert: not sent` }
        const attempt = await post(postableAlerts(changes, nowMs, resendMs), signal)
        if (attempt.result === 'delivered') {
          book = applyChanges(book, changes)
          const v = vrrpEventTime(event)
          if (v && v.at > (seen.get(v.instance) ?? -Infinity)) seen.set(v.instance, v.at)
          save()
        }
        return attempt
      })
    },
    resend: () => serial(resendRound),
    firing: () => [...book.values()],
  }
}
