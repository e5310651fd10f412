// Delivers each webhook's queue (see src/outbox) strictly in order: the head is
// retried until delivered or dead before the next event goes. Progress is the
// queue itself (a delivered event's file is deleted), so a crash or `kill -9`
// resumes with the same events and the same webhook-ids: at least once.
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs'
import { join } from 'node:path'
import type { WebhookConfig } from '../config/index.js'
import type { AgentEvent } from '../events/index.js'
import type { Logger } from '../log/index.js'
import { deadDir, oldestEvents, queueDir, writeDurably } from '../outbox/index.js'
import { httpCall, HttpTimeoutError } from '../http/index.js'
import { renderRequest } from './render.js'
import { backoffDelay, classifyStatus, parseRetryAfter, type Outcome } from './retry.js'

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
  /** the slow safety poll behind fs.watch */
  pollMs?: number
  onResult?: (webhook: string, result: Outcome, event: AgentEvent) => void
}

interface HeadState {
  id: string
  attempts: number
  nextAttemptAt: number
  lastError?: string
}

const RECENT_LIMIT = 2000
/** how many of the oldest queued names a lane holds at once (memory stays flat whatever the backlog) */
const WINDOW = 256
const MAX_TIMER_MS = 60_000

class Lane {
  readonly dir: string
  readonly deadDir: string
  private readonly stateFile: string
  private head: HeadState | undefined
  private pumping = false
  private again = false
  private timer: NodeJS.Timeout | undefined
  private watcher: FSWatcher | undefined
  private inFlight: AbortController | undefined
  private stopped = false
  private held = false
  /** the oldest queued names, read from disk; `pos` is the head */
  private window: string[] = []
  private pos = 0
  private total = 0
  /** something may have been queued that the window does not show */
  private dirty = true
  lastResult: Outcome | undefined

  constructor(
    public webhook: WebhookConfig,
    private readonly opts: DispatcherOptions,
    private readonly record: (id: string, webhook: string, result: DeliveryResult['result'], detail?: string) => void,
  ) {
    this.dir = queueDir(opts.stateDir, webhook.name)
    this.deadDir = deadDir(opts.stateDir, webhook.name)
    this.stateFile = join(this.dir, '.head-state')
    mkdirSync(this.dir, { recursive: true, mode: 0o750 })
    try {
      this.head = JSON.parse(readFileSync(this.stateFile, 'utf8')) as HeadState
    } catch {
      this.head = undefined
    }
    try {
      // Our own deletions (delivered, dead) fire the watcher too; only a name
      // that exists is news. A missing name means "look": inotify overflowed.
      this.watcher = watch(this.dir, (_type, name) => {
        if (name && !(name.endsWith('.json') && existsSync(join(this.dir, name)))) return
        this.refresh()
      })
      this.watcher.on('error', () => {})
      this.watcher.unref()
    } catch {
      // the safety poll still finds new events
    }
  }

  private get now(): number {
    return (this.opts.now ?? Date.now)()
  }

  /** new events may be on disk (watcher, kick, safety poll): re-read the window before the next head */
  refresh(): void {
    this.dirty = true
    this.pump()
  }

  private readWindow(): void {
    // The read is synchronous: an event linked in after it fires the watcher
    // afterwards and sets dirty again, so nothing falls between the two.
    this.dirty = false
    try {
      const w = oldestEvents(this.dir, WINDOW)
      this.window = w.names
      this.total = w.total
    } catch (err) {
      this.opts.logger.error({ webhook: this.webhook.name, err, dir: this.dir }, 'cannot read the webhook queue')
      this.window = []
      this.total = 0
      this.dirty = true
    }
    this.pos = 0
  }

  private pending(): number {
    if (!this.dirty) return Math.max(0, this.total - this.pos)
    try {
      return oldestEvents(this.dir, 0).total
    } catch {
      return 0
    }
  }

  deadCount(): number {
    try {
      return oldestEvents(this.deadDir, 0).total
    } catch {
      return 0
    }
  }

  stats(): WebhookStats {
    const s: WebhookStats = { name: this.webhook.name, pending: this.pending(), dead: this.deadCount() }
    if (this.lastResult) s.lastResult = this.lastResult
    if (this.head?.lastError) s.lastError = this.head.lastError
    if (this.head?.nextAttemptAt) s.nextAttemptAt = new Date(this.head.nextAttemptAt).toISOString()
    return s
  }

  /** Starts only once `previous` (the lane this one replaces) has let go of the queue. */
  holdUntil(previous: Promise<void>): void {
    this.held = true
    void previous.finally(() => {
      this.held = false
      this.pump()
    })
  }

  pump(): void {
    if (this.stopped || this.held) return
    if (this.pumping) {
      this.again = true
      return
    }
    this.pumping = true
    void this.drain()
      .catch((err) => this.opts.logger.error({ webhook: this.webhook.name, err }, 'webhook dispatcher failed; will retry'))
      .finally(() => {
        this.pumping = false
        if (this.again) {
          this.again = false
          this.pump()
        }
      })
  }

  private saveHead(): void {
    try {
      writeFileSync(this.stateFile + '.tmp', JSON.stringify(this.head))
      renameSync(this.stateFile + '.tmp', this.stateFile)
    } catch (err) {
      this.opts.logger.warn({ webhook: this.webhook.name, err }, 'cannot save retry state; backoff restarts after a restart')
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer)
    // Long waits are re-checked every minute: setTimeout cannot wait more than
    // ~24.8 days (a larger delay fires at once, which would spin).
    this.timer = setTimeout(() => this.pump(), Math.min(Math.max(0, delayMs), MAX_TIMER_MS))
    this.timer.unref()
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      if (this.dirty || this.pos >= this.window.length) this.readWindow()
      const name = this.window[this.pos]
      if (!name) return
      const id = name.slice(0, -'.json'.length)
      if (this.head?.id !== id) this.head = { id, attempts: 0, nextAttemptAt: 0 }
      const wait = this.head.nextAttemptAt - this.now
      if (wait > 0) return this.schedule(wait)
      const path = join(this.dir, name)
      let event: AgentEvent
      try {
        event = JSON.parse(readFileSync(path, 'utf8')) as AgentEvent
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.advance()
          continue
        }
        if (!this.deadLetter(path, { id } as AgentEvent, `unreadable event file: ${(err as Error).message}`)) return
        continue
      }
      const age = this.now - Date.parse(event.timestamp)
      if (age > this.webhook.max_age) {
        if (!this.deadLetter(path, event, `not delivered within max_age (${this.head.attempts} attempts; last: ${this.head.lastError ?? 'none'})`)) return
        continue
      }
      const outcome = await this.attempt(event)
      if (this.stopped) return
      if (outcome.result === 'delivered') {
        try {
          unlinkSync(path)
        } catch {
          /* already gone */
        }
        this.advance()
        this.lastResult = 'delivered'
        this.head = undefined
        try {
          unlinkSync(this.stateFile)
        } catch {
          /* none */
        }
        this.record(event.id, this.webhook.name, 'delivered', outcome.detail)
        this.opts.onResult?.(this.webhook.name, 'delivered', event)
        this.opts.logger.debug({ webhook: this.webhook.name, id: event.id, type: event.type }, 'webhook delivered')
      } else if (outcome.result === 'dead') {
        if (!this.deadLetter(path, event, outcome.detail)) return
      } else {
        this.head.attempts += 1
        this.head.lastError = outcome.detail
        const backoff = backoffDelay(this.head.attempts, this.opts.random)
        const wanted = outcome.retryAfterMs !== undefined ? Math.max(outcome.retryAfterMs, 0) : backoff
        // Never wait past max_age: at that point the event is dead-lettered, not retried.
        const untilExpiry = Date.parse(event.timestamp) + this.webhook.max_age - this.now + 1
        const delay = Math.min(wanted, Math.max(untilExpiry, 0))
        this.head.nextAttemptAt = this.now + delay
        this.saveHead()
        this.lastResult = 'retry'
        this.opts.onResult?.(this.webhook.name, 'retry', event)
        this.opts.logger.warn(
          { webhook: this.webhook.name, id: event.id, attempt: this.head.attempts, retry_in_ms: delay, reason: outcome.detail },
          'webhook delivery failed; will retry',
        )
        return this.schedule(delay)
      }
    }
  }

  private async attempt(event: AgentEvent): Promise<{ result: Outcome; detail: string; retryAfterMs?: number }> {
    const req = renderRequest(event, this.webhook, this.now)
    if (!req) return { result: 'delivered', detail: `not carried by format ${this.webhook.format}` }
    const controller = new AbortController()
    this.inFlight = controller
    try {
      const res = await httpCall(this.webhook.url, { method: 'POST', headers: req.headers, body: req.body, timeoutMs: this.webhook.timeout_ms, signal: controller.signal, maxBodyBytes: 4096 })
      const result = classifyStatus(res.status)
      const detail = `HTTP ${res.status}`
      if (result === 'retry') {
        const retryAfter = res.headers['retry-after']
        const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, this.now)
        return retryAfterMs !== undefined ? { result, detail, retryAfterMs } : { result, detail }
      }
      return { result, detail }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const why = controller.signal.aborted ? 'abandoned at shutdown' : e instanceof HttpTimeoutError ? `no answer within ${this.webhook.timeout_ms} ms` : (e.code ?? e.message)
      return { result: 'retry', detail: why }
    } finally {
      this.inFlight = undefined
    }
  }

  private advance(): void {
    this.pos++
  }

  /** Moves the head to dead/; false (and a retry scheduled) when it cannot, keeping it queued. */
  private deadLetter(path: string, event: AgentEvent, reason: string): boolean {
    try {
      mkdirSync(this.deadDir, { recursive: true, mode: 0o750 })
      const target = join(this.deadDir, `${event.id}.json`)
      if (!existsSync(target)) writeDurably(target, JSON.stringify({ webhook: this.webhook.name, reason, dead_at: new Date(this.now).toISOString(), event }))
      unlinkSync(path)
    } catch (err) {
      // Cannot move it: keep it at the head rather than lose it.
      this.opts.logger.error({ webhook: this.webhook.name, id: event.id, err }, 'cannot dead-letter event; keeping it queued')
      this.schedule(5000)
      return false
    }
    this.advance()
    this.head = undefined
    try {
      unlinkSync(this.stateFile)
    } catch {
      /* none */
    }
    this.lastResult = 'dead'
    this.record(event.id, this.webhook.name, 'dead', reason)
    this.opts.onResult?.(this.webhook.name, 'dead', event)
    this.opts.logger.error({ webhook: this.webhook.name, id: event.id, type: event.type, reason, dead_letter: this.deadDir }, 'webhook event dead-lettered')
    return true
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.watcher?.close()
    this.inFlight?.abort()
    // Let the aborted attempt unwind; its event stays queued for the next start.
    for (let i = 0; i < 50 && this.pumping; i++) await new Promise((r) => setTimeout(r, 10))
  }
}

export function startDispatcher(opts: DispatcherOptions): Dispatcher {
  const recent = new Map<string, Map<string, { result: DeliveryResult['result']; detail?: string }>>()
  const record = (id: string, webhook: string, result: DeliveryResult['result'], detail?: string) => {
    let m = recent.get(id)
    if (!m) {
      m = new Map()
      recent.set(id, m)
      if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!)
    }
    m.set(webhook, detail !== undefined ? { result, detail } : { result })
  }
  let lanes = new Map<string, Lane>()
  const build = (webhooks: readonly WebhookConfig[]) => {
    const next = new Map<string, Lane>()
    for (const w of webhooks) {
      const old = lanes.get(w.name)
      // Secrets are non-enumerable (never logged), so JSON.stringify does not see them.
      const same = old && JSON.stringify(old.webhook) === JSON.stringify(w) && old.webhook.secret === w.secret && old.webhook.routingKey === w.routingKey
      if (old && same) next.set(w.name, old)
      else {
        const lane = new Lane(w, opts, record)
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

  return {
    kick() {
      for (const lane of lanes.values()) lane.refresh()
    },
    reload: build,
    stats() {
      const webhooks = [...lanes.values()].map((l) => l.stats())
      return {
        pending: webhooks.reduce((s, w) => s + w.pending, 0),
        dead: webhooks.reduce((s, w) => s + w.dead, 0),
        webhooks,
      }
    },
    async waitFor(eventId, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      const involved = () => [...lanes.values()].filter((l) => recent.get(eventId)?.has(l.webhook.name) || existsSync(join(l.dir, `${eventId}.json`)))
      const lanesFor = involved()
      for (;;) {
        const results: DeliveryResult[] = lanesFor.map((l) => {
          const r = recent.get(eventId)?.get(l.webhook.name)
          if (r) return { webhook: l.webhook.name, ...r }
          const s = l.stats()
          return { webhook: l.webhook.name, result: 'pending', ...(s.lastError ? { detail: s.lastError } : {}) }
        })
        if (results.every((r) => r.result !== 'pending') || Date.now() >= deadline) return results
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    async stop() {
      clearInterval(poll)
      await Promise.all([...lanes.values()].map((l) => l.stop()))
    },
  }
}
