// Where a webhook's events go: an HTTP receiver (standard, slack, pagerduty),
// Alertmanager's API, or a local command. A sink makes one attempt and says what
// became of it; order, retries and dead letters are the lane's job (lane.ts).
import type { AgentEvent } from '../events/index.js'
import type { Outcome } from './retry.js'

export interface Attempt {
  result: Outcome
  /** for people: "HTTP 503", "no answer within 5000 ms", "exit 3" */
  detail: string
  /** the receiver asked us to wait this long (Retry-After) */
  retryAfterMs?: number
}

export interface Sink {
  /** One attempt. Never throws: a failure is an Attempt with result retry or dead. */
  deliver(event: AgentEvent, signal: AbortSignal): Promise<Attempt>
  /**
   * For a sink with work of its own (alertmanager re-sends firing alerts): the
   * lane calls start() when it starts delivering, once the lane it replaces has
   * closed its sink, and close() when it stops.
   */
  start?(): void
  close?(): Promise<void>
}
