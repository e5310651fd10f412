import type { HttpWebhookConfig } from '../config/index.js'
import { httpCall } from '../http/index.js'
import { hasCode } from '../errors/index.js'
import { renderRequest } from './render.js'
import { classifyStatus, parseRetryAfter } from './retry.js'
import type { Attempt, Sink } from './sink.js'

export interface PostOptions {
  headers: Record<string, string>
  body: string
  timeoutMs: number
  signal: AbortSignal
  now: () => number
  /** add what the receiver said to the detail of a refused request (Alertmanager says why) */
  explainRefusal?: boolean
}

/**
 * One POST with a hard deadline, as an Attempt: delivered (2xx), dead (4xx but
 * 429) or retry (5xx, 429, no answer), with the receiver's Retry-After. Never throws.
 */
export async function postAttempt(url: string, opts: PostOptions): Promise<Attempt> {
  try {
    const res = await httpCall(url, { method: 'POST', headers: opts.headers, body: opts.body, timeoutMs: opts.timeoutMs, signal: opts.signal, maxBodyBytes: 4096 })
    const result = classifyStatus(res.status)
    const why = result !== 'delivered' && opts.explainRefusal ? res.body.trim().replace(/\s+/g, ' ').slice(0, 300) : ''
    const detail = `HTTP ${res.status}${why ? `: ${why}` : ''}`
    if (result !== 'retry') return { result, detail }
    const header = res.headers['retry-after']
    const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header, opts.now())
    return retryAfterMs !== undefined ? { result, detail, retryAfterMs } : { result, detail }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = opts.signal.aborted ? 'abandoned at shutdown' : hasCode(err, 'HA_ERR_TIMEOUT') ? `no answer within ${opts.timeoutMs} ms` : (e.code ?? e.message)
    return { result: 'retry', detail: why }
  }
}

/** POSTs each event, rendered for the webhook's format, with a hard deadline. */
export function createHttpSink(webhook: HttpWebhookConfig, now: () => number): Sink {
  return {
    async deliver(event, signal) {
      const req = renderRequest(event, webhook, now())
      if (!req) return { result: 'delivered', detail: `not carried by format ${webhook.format}` }
      return postAttempt(webhook.url, { headers: req.headers, body: req.body, timeoutMs: webhook.timeout_ms, signal, now })
    },
  }
}
