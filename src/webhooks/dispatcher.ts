// Every webhook's lane, kept in step with the config: new events are picked up
// from inotify (a kick from the appender, and a slow safety poll behind both).
import { EventEmitter, once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { WebhookConfig } from '../config/index.js'
import type { AgentEvent } from '../events/index.js'
import type { Logger } from '../log/index.js'
import type { AlertConditions } from './alertmanager-alerts.js'
import { createAlertmanagerSink } from './alertmanager-sink.js'
import { createExecSink } from './exec-sink.js'
import { createHttpSink } from './http-sink.js'
import { Lane, type LaneResult } from './lane.js'
import type { Outcome } from './retry.js'
import type { Sink } from './sink.js'

export type DeliveryResult = { webhook: string; result: 'delivered' | 'dead' | 'pending'; detail?: string }

export interface WebhookStats {
  name: string
  pending: number
  dead: number
  lastResult?: Outcome
  lastError?: string
  nextAttemptAt?: string
}

export interface Dispatcher {
  /** new events were appended: look now */
  kick(): void
  /** the config changed: lanes of changed webhooks are replaced, others keep going */
  reload(webhooks: readonly WebhookConfig[]): void
  stats(): { pending: number; dead: number; webhooks: WebhookStats[] }
  /** waits until every webhook that queued the event delivered it or gave up */
  waitFor(eventId: string, timeoutMs: number): Promise<DeliveryResult[]>
  stop(): Promise<void>
}

export interface DispatcherOptions {
  stateDir: string
  webhooks: readonly WebhookConfig[]
  logger: Logger
  now?: () => number
  random?: () => number
  /** the floor under every retry delay (retry.ts MIN_RETRY_DELAY_MS) */
  minRetryMs?: number
  /** the slow safety poll behind inotify */
  pollMs?: number
  /** the sink for a webhook (default: by its format) */
  sinkFor?: (webhook: WebhookConfig) => Sink
  onResult?: (webhook: string, result: Outcome, event: AgentEvent | undefined) => void
  /** format alertmanager: what holds now (VRRP states, checks, split brain), so alerts follow it; dead letters are counted here */
  alertConditions?: () => AlertConditions
  /** ms to wait before delivering an event at the head of a queue (0: now); see LaneOptions */
  holdBack?: (event: AgentEvent) => number
}

const sameSecrets = (a: readonly string[] | undefined, b: readonly string[] | undefined) => (a ?? []).join(' ') === (b ?? []).join(' ')

/** how many recent results waitFor() can still see */
const RECENT_LIMIT = 2000

export function startDispatcher(opts: DispatcherOptions): Dispatcher {
  const now = opts.now ?? Date.now
  const results = new EventEmitter()
  results.setMaxListeners(0)
  const recent = new Map<string, Map<string, { result: 'delivered' | 'dead'; detail: string }>>()
  const onResult = (r: LaneResult) => {
    if (r.result !== 'retry') {
      let m = recent.get(r.id)
      if (!m) {
        m = new Map()
        recent.set(r.id, m)
        if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!)
      }
      m.set(r.webhook, { result: r.result, detail: r.detail })
    }
    opts.onResult?.(r.webhook, r.result, r.event)
    results.emit('result', r)
  }
  const sinkFor = opts.sinkFor ?? ((w: WebhookConfig) => (w.format === 'exec' ? createExecSink(w) : w.format === 'alertmanager' ? alertmanagerSink(w) : createHttpSink(w, now)))
  const alertmanagerSink = (w: WebhookConfig) =>
    createAlertmanagerSink({
      webhook: w,
      stateDir: opts.stateDir,
      logger: opts.logger,
      now,
      // Dead letters are the dispatcher's to count; the rest is the caller's (the daemon's) view.
      conditions: () => ({ ...opts.alertConditions?.(), deadLetters: [...lanes.values()].map((l) => ({ webhook: l.webhook.name, count: l.queue.deadCount() })) }),
      pending: () => lanes.get(w.name)?.queue.pending() ?? 0,
    })
  const newLane = (w: WebhookConfig) =>
    new Lane({
      stateDir: opts.stateDir,
      webhook: w,
      sink: sinkFor(w),
      logger: opts.logger,
      now,
      onResult,
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.minRetryMs !== undefined ? { minRetryMs: opts.minRetryMs } : {}),
      ...(opts.holdBack ? { holdBack: opts.holdBack } : {}),
    })

  let lanes = new Map<string, Lane>()
  const build = (webhooks: readonly WebhookConfig[]) => {
    const next = new Map<string, Lane>()
    for (const w of webhooks) {
      const old = lanes.get(w.name)
      // Secrets are non-enumerable (never logged), so JSON.stringify does not see them.
      const same = old && JSON.stringify(old.webhook) === JSON.stringify(w) && sameSecrets(old.webhook.secrets, w.secrets) && old.webhook.routingKey === w.routingKey
      if (old && same) next.set(w.name, old)
      else {
        const lane = newLane(w)
        // Two lanes on one queue would send the head twice at once.
        if (old) lane.holdUntil(old.stop())
        next.set(w.name, lane)
      }
    }
    for (const [name, lane] of lanes) if (!next.has(name)) void lane.stop()
    lanes = next
    for (const lane of lanes.values()) lane.pump()
  }
  build(opts.webhooks)
  const poll = setInterval(() => {
    for (const lane of lanes.values()) lane.refresh()
  }, opts.pollMs ?? 1000)
  poll.unref()

  const laneStats = (l: Lane): WebhookStats => ({
    name: l.webhook.name,
    pending: l.queue.pending(),
    dead: l.queue.deadCount(),
    ...(l.lastResult ? { lastResult: l.lastResult } : {}),
    ...(l.lastError ? { lastError: l.lastError } : {}),
    ...(l.nextAttemptAt ? { nextAttemptAt: new Date(l.nextAttemptAt).toISOString() } : {}),
  })

  return {
    kick() {
      for (const lane of lanes.values()) lane.refresh()
    },
    reload: build,
    stats() {
      const webhooks = [...lanes.values()].map(laneStats)
      return { pending: webhooks.reduce((s, w) => s + w.pending, 0), dead: webhooks.reduce((s, w) => s + w.dead, 0), webhooks }
    },
    async waitFor(eventId, timeoutMs) {
      const involved = [...lanes.values()].filter((l) => recent.get(eventId)?.has(l.webhook.name) || existsSync(join(l.queue.dir, `${eventId}.json`)))
      const snapshot = (): DeliveryResult[] =>
        involved.map((l) => {
          const r = recent.get(eventId)?.get(l.webhook.name)
          if (r) return { webhook: l.webhook.name, ...r }
          return { webhook: l.webhook.name, result: 'pending', ...(l.lastError ? { detail: l.lastError } : {}) }
        })
      const done = () => snapshot().every((r) => r.result !== 'pending')
      if (done()) return snapshot()
      const ac = new AbortController()
      const timer = setTimeout(() => ac.abort(), timeoutMs)
      try {
        for (;;) {
          await once(results, 'result', { signal: ac.signal })
          if (done()) break
        }
      } catch {
        // timed out: report what is still pending, with the last error
      } finally {
        clearTimeout(timer)
      }
      return snapshot()
    },
    async stop() {
      clearInterval(poll)
      await Promise.all([...lanes.values()].map((l) => l.stop()))
    },
  }
}
