// Exponential backoff with full jitter (AWS architecture blog, "Exponential
// Backoff And Jitter"): spreads retries of many nodes after a shared outage.
export const BASE_DELAY_MS = 500
export const MAX_DELAY_MS = 5 * 60_000
/**
 * No retry comes sooner than this, whatever the receiver says (`Retry-After: 0`
 * once gave 207 POSTs a second) and whatever the jitter draws.
 */
export const MIN_RETRY_DELAY_MS = 1000

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}

export type Outcome = 'delivered' | 'retry' | 'dead'

/** 2xx delivered; network errors, timeouts, 408, 429, 5xx retried; other 4xx (and 3xx) dead. */
export function classifyStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return 'delivered'
  if (status === 408 || status === 429 || status >= 500) return 'retry'
  return 'dead'
}

/**
 * How long to wait before the next attempt: the receiver's Retry-After when it
 * gave one, else the backoff; never less than `minMs`, never past the event's
 * expiry (at which point it is dead-lettered, not retried). Always finite.
 */
export function retryDelay(opts: { attempt: number; retryAfterMs?: number; untilExpiryMs: number; minMs?: number; random?: () => number }): number {
  const min = opts.minMs ?? MIN_RETRY_DELAY_MS
  const wanted = opts.retryAfterMs !== undefined && Number.isFinite(opts.retryAfterMs) ? opts.retryAfterMs : backoffDelay(opts.attempt, opts.random)
  const capped = Math.min(wanted, Number.isFinite(opts.untilExpiryMs) ? opts.untilExpiryMs : 0)
  return Math.max(min, capped)
}
