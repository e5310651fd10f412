// One webhook's delivery loop: the head of its queue is retried until delivered
// or dead before the next event goes, so a receiver sees events in the order
// they happened. Progress is the queue itself (a delivered event's file is
// removed), so a crash or `kill -9` resumes with the same events and the same
// webhook-ids: at least once.
import type { WebhookConfig } from '../config/index.js'
import type { AgentEvent } from '../events/index.js'
import type { Logger } from '../log/index.js'
import { StorageError } from '../errors/index.js'
import { WebhookQueue, type Head, type RetryState } from '../outbox/index.js'
import { retryDelay, type Outcome } from './retry.js'
import type { Sink } from './sink.js'

/** a queue that cannot be read or dead-lettered into is looked at again after this */
const STORAGE_RETRY_MS = 5000
/** setTimeout cannot wait more than ~24.8 days (longer fires at once): long waits are re-checked */
const MAX_TIMER_MS = 60_000

export interface LaneResult {
  webhook: string
  id: string
  result: Outcome
  detail: string
  event?: AgentEvent
}

export interface LaneOptions {
  stateDir: string
  webhook: WebhookConfig
  sink: Sink
  logger: Logger
  now: () => number
  random?: () => number
  minRetryMs?: number
  /** ms to wait before delivering this head (0: now): the daemon holds a transition back while an earlier one is on its way */
  holdBack?: (event: AgentEvent) => number
  onResult(r: LaneResult): void
}

export class Lane {
  readonly queue: WebhookQueue
  readonly webhook: WebhookConfig
  private running: Promise<void> | undefined
  private again = false
  private timer: NodeJS.Timeout | undefined
  private inFlight: AbortController | undefined
  private stopped = false
  private held = false
  private sinkStarted = false
  private unwatch: () => void
  lastResult: Outcome | undefined
  lastError: string | undefined
  nextAttemptAt: number | undefined

  constructor(private readonly opts: LaneOptions) {
    this.webhook = opts.webhook
    this.queue = new WebhookQueue(opts.stateDir, opts.webhook.name)
    this.unwatch = this.queue.watch(() => this.pump())
  }

  /** New events may be queued (watcher, kick, safety poll): look. */
  refresh(): void {
    this.queue.changed()
    this.pump()
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
    if (!this.sinkStarted) {
      this.sinkStarted = true
      this.opts.sink.start?.()
    }
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.drain()
      .catch((err) => this.opts.logger.error({ webhook: this.webhook.name, err }, 'webhook lane failed; will look again'))
      .finally(() => {
        this.running = undefined
        if (this.again && !this.stopped) {
          this.again = false
          this.pump()
        }
      })
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.pump(), Math.min(Math.max(0, delayMs), MAX_TIMER_MS))
    this.timer.unref()
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      let head: Head | undefined
      try {
        head = this.queue.head()
      } catch (err) {
        this.opts.logger.error({ webhook: this.webhook.name, err }, 'cannot read the webhook queue')
        return this.schedule(STORAGE_RETRY_MS)
      }
      if (!head) {
        this.nextAttemptAt = undefined
        return
      }
      const saved = this.queue.retry()
      const retry: RetryState = saved?.id === head.id ? saved : { id: head.id, attempts: 0, nextAttemptAt: 0 }
      const wait = retry.nextAttemptAt - this.opts.now()
      if (wait > 0) {
        this.nextAttemptAt = retry.nextAttemptAt
        this.lastError = retry.lastError
        return this.schedule(wait)
      }
      if (head.invalid !== undefined) {
        if (!this.deadLetter(head, `unreadable record: ${head.invalid}`, retry.attempts)) return
        continue
      }
      const event = head.event
      // A dead letter an operator replayed gets a new max_age from the replay.
      const expiresAt = Math.max(Date.parse(event.timestamp), head.replayedAt ?? 0) + this.webhook.max_age
      if (this.opts.now() > expiresAt) {
        if (!this.deadLetter(head, `not delivered within max_age (${retry.attempts} attempts; last: ${retry.lastError ?? 'none'})`, retry.attempts)) return
        continue
      }
      const hold = this.opts.holdBack?.(event) ?? 0
      if (hold > 0) {
        this.opts.logger.debug({ webhook: this.webhook.name, id: head.id, hold_ms: hold }, 'held back: an event before it is still on its way')
        return this.schedule(hold)
      }
      const controller = new AbortController()
      this.inFlight = controller
      const attempt = await this.opts.sink.deliver(event, controller.signal)
      this.inFlight = undefined
      if (this.stopped) return
      if (attempt.result === 'delivered') {
        this.queue.ack(head)
        this.lastResult = 'delivered'
        this.lastError = undefined
        this.opts.onResult({ webhook: this.webhook.name, id: head.id, result: 'delivered', detail: attempt.detail, event })
        this.opts.logger.debug({ webhook: this.webhook.name, id: head.id, type: event.type }, 'webhook delivered')
      } else if (attempt.result === 'dead') {
        if (!this.deadLetter(head, attempt.detail, retry.attempts + 1)) return
      } else {
        const attempts = retry.attempts + 1
        const delay = retryDelay({
          attempt: attempts,
          ...(attempt.retryAfterMs !== undefined ? { retryAfterMs: attempt.retryAfterMs } : {}),
          untilExpiryMs: expiresAt - this.opts.now() + 1,
          ...(this.opts.minRetryMs !== undefined ? { minMs: this.opts.minRetryMs } : {}),
          ...(this.opts.random ? { random: this.opts.random } : {}),
        })
        const next: RetryState = { id: head.id, attempts, nextAttemptAt: this.opts.now() + delay, lastError: attempt.detail }
        if (!this.queue.saveRetry(next)) this.opts.logger.warn({ webhook: this.webhook.name }, 'cannot save retry state; backoff restarts after a restart')
        this.lastResult = 'retry'
        this.lastError = attempt.detail
        this.nextAttemptAt = next.nextAttemptAt
        this.opts.onResult({ webhook: this.webhook.name, id: head.id, result: 'retry', detail: attempt.detail, event })
        this.opts.logger.warn({ webhook: this.webhook.name, id: head.id, attempt: attempts, retry_in_ms: delay, reason: attempt.detail }, 'webhook delivery failed; will retry')
        return this.schedule(delay)
      }
    }
  }

  /** False (and a look later) when the dead letter cannot be written: the head stays queued. */
  private deadLetter(head: Head, reason: string, attempts: number): boolean {
    try {
      this.queue.deadLetter(head, reason, attempts, this.opts.now())
    } catch (err) {
      const detail = err instanceof StorageError ? err.message : String(err)
      this.opts.logger.error({ webhook: this.webhook.name, id: head.id, err: detail }, 'cannot dead-letter event; keeping it queued')
      this.schedule(STORAGE_RETRY_MS)
      return false
    }
    this.lastResult = 'dead'
    this.lastError = reason
    this.opts.onResult({ webhook: this.webhook.name, id: head.id, result: 'dead', detail: reason, ...(head.event ? { event: head.event } : {}) })
    this.opts.logger.error({ webhook: this.webhook.name, id: head.id, type: head.event?.type, reason, dead_letters: this.queue.deadDir }, 'webhook event dead-lettered')
    return true
  }

  /** Stops; an attempt in flight is abandoned and its event stays queued for the next start. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.unwatch()
    this.inFlight?.abort()
    await this.running
    await this.opts.sink.close?.()
  }
}
