// What every part of the daemon gets: the config in force, the shared state,
// the metrics, and the few things parts do for each other.
import type { AgentMetrics, StatusFeed, StatusSnapshot } from '../api/index.js'
import type { AgentConfig } from '../config/index.js'
import type { Logger } from '../log/index.js'
import type { NotifyOrder } from '../keepalived/index.js'
import type { NewEvent } from '../outbox/index.js'
import type { DaemonState } from './state.js'

/** A part whose loop can run its next round sooner (while a relative fault confirms). */
export interface Hurry {
  hurry(): void
}

/** The interval of a loop that was asked to hurry, or whose subject is changing: HAProxy's `fastinter` idea. */
export function fastInterval(intervalMs: number): number {
  return Math.min(intervalMs, FAST_INTERVAL_MS)
}
export const FAST_INTERVAL_MS = 250

export interface DaemonContext {
  /** the config in force: a reload swaps it once every part of the new one runs */
  config(): AgentConfig
  logger: Logger
  metrics: AgentMetrics
  state: DaemonState
  /** the process environment the daemon was started with (NOTIFY_SOCKET, JOURNAL_STREAM) */
  env: Record<string, string | undefined>
  /** stdout is the journal: a line written past the logger (the watchdog's) starts with its <N> priority too */
  journal: boolean
  /** the service of a running part (`outbox`, `dispatcher`, `checks`) */
  service<S>(name: string): S | undefined
  /** recompute what keepalived's track_file says (and what `check` is told) */
  decide(): void
  /** stores an event for the webhooks (the outbox, else the spool); never throws, logs what it cannot store */
  emit(event: NewEvent): Promise<void>
  snapshot(): StatusSnapshot
  /** the snapshot pushed to peers on GET /status/stream, told by decide() that something may have changed */
  feed: StatusFeed
  /** the notify processes still on their way, so transitions are recorded and delivered in fork order */
  notifies: NotifyOrder
}
