import type { HttpWebhookConfig } from '../config/index.js'
import { httpCall } from '../http/index.js'
import { hasCode } from '../errors/index.js'
import { renderRequest } from './render.js'
import { classifyStatus, parseRetryAfter } from './retry.js'
import type { Sink } from './sink.js'

/** POSTs each event, rendered for the webhook's format, with a hard deadline. */
export function createHttpSink(webhook: HttpWebhookConfig, now: () => number): Sink {
  return {
    async deliver(event, signal) {
      const req = renderRequest(event, webhook, now())
      if (!req) return { result: 'delivered', detail: `not carried by format ${webhook.format}` }
      try {
        const res = await httpCall(webhook.url, { method: 'POST', headers: req.headers, body: req.body, timeoutMs: webhook.timeout_ms, signal, maxBodyBytes: 4096 })
        const result = classifyStatus(res.status)
        const detail = `HTTP ${res.status}`
        if (result !== 'retry') return { result, detail }
        const header = res.headers['retry-after']
        const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header, now())
        return retryAfterMs !== undefined ? { result, detail, retryAfterMs } : { result, detail }
      } catch (err) {
        const e = err as NodeJS.ErrnoException
        const why = signal.aborted ? 'abandoned at shutdown' : hasCode(err, 'HA_ERR_TIMEOUT') ? `no answer within ${webhook.timeout_ms} ms` : (e.code ?? e.message)
        return { result: 'retry', detail: why }
      }
    },
  }
}
