import t from 'tap'
import { backoffDelay, classifyStatus, parseRetryAfter, MAX_DELAY_MS } from '../../src/webhooks/retry.js'

t.test('full jitter backoff grows exponentially and is capped', async (t) => {
  t.equal(backoffDelay(1, () => 0.999999), 499)
  t.equal(backoffDelay(3, () => 0.5), 1000)
  t.equal(backoffDelay(40, () => 0.999999), MAX_DELAY_MS - 1)
  t.equal(backoffDelay(5, () => 0), 0)
})

t.test('Retry-After as seconds or HTTP date', async (t) => {
  const now = Date.parse('2026-11-25T10:00:00Z')
  t.equal(parseRetryAfter('3', now), 3000)
  t.equal(parseRetryAfter('Wed, 25 Nov 2026 10:00:05 GMT', now), 5000)
  t.equal(parseRetryAfter('soon', now), undefined)
  t.equal(parseRetryAfter(null, now), undefined)
})

t.test('status classes', async (t) => {
  t.equal(classifyStatus(204), 'delivered')
  for (const s of [408, 429, 500, 503]) t.equal(classifyStatus(s), 'retry', String(s))
  for (const s of [301, 400, 404, 410]) t.equal(classifyStatus(s), 'dead', String(s))
})
