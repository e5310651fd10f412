// postAttempt, the one POST both HTTP sinks make (createHttpSink for standard,
// slack and pagerduty; the alertmanager sink), against a node:http server on
// loopback: what each answer becomes for the lane.
import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { postAttempt, type PostOptions } from '../../src/webhooks/http-sink.js'
import { freePort } from '../fixtures/procs.js'

const NOW = Date.parse('2026-11-25T10:00:00Z')
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end()
const got: Array<{ headers: IncomingMessage['headers']; body: string }> = []
const srv = createServer((req, res) => {
  let body = ''
  req.on('data', (d) => (body += d))
  req.on('end', () => {
    got.push({ headers: req.headers, body })
    answer(req, res)
  })
})
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
t.teardown(() => {
  srv.closeAllConnections()
  srv.close()
})
const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/hook`
const post = (over: Partial<PostOptions> = {}) =>
  postAttempt(url, { headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs: 1000, signal: new AbortController().signal, now: () => NOW, ...over })
const reply = (status: number, body = '', headers: Record<string, string> = {}) => (answer = (_req, res) => res.writeHead(status, headers).end(body))

t.test('2xx: delivered, the request as given', async (t) => {
  reply(204)
  t.same(await post(), { result: 'delivered', detail: 'HTTP 204' })
  t.match(got.at(-1), { headers: { 'content-type': 'application/json', 'content-length': '7' }, body: '{"a":1}' })
})

t.test('4xx: dead; what the receiver said only when asked for, on one line, cut at 300 characters', async (t) => {
  reply(400, 'start time must be\n   before end time\n')
  t.same(await post(), { result: 'dead', detail: 'HTTP 400' })
  t.same(await post({ explainRefusal: true }), { result: 'dead', detail: 'HTTP 400: start time must be before end time' })
  reply(422, 'x'.repeat(1000))
  t.equal((await post({ explainRefusal: true })).detail, `HTTP 422: ${'x'.repeat(300)}`)
  reply(200, 'fine')
  t.same(await post({ explainRefusal: true }), { result: 'delivered', detail: 'HTTP 200' }, 'a delivery says nothing more')
})

t.test("5xx and 429: retry, with the receiver's Retry-After", async (t) => {
  reply(503, '', { 'retry-after': '120' })
  t.same(await post(), { result: 'retry', detail: 'HTTP 503', retryAfterMs: 120_000 })
  reply(429, 'slow down', { 'retry-after': new Date(NOW + 30_000).toUTCString() })
  t.same(await post({ explainRefusal: true }), { result: 'retry', detail: 'HTTP 429: slow down', retryAfterMs: 30_000 })
  reply(500)
  t.same(await post(), { result: 'retry', detail: 'HTTP 500' }, 'no Retry-After, none in the attempt')
})

t.test('no answer, refused, abandoned: retry, saying which', async (t) => {
  answer = () => {}
  t.same(await post({ timeoutMs: 100 }), { result: 'retry', detail: 'no answer within 100 ms' })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 20)
  t.same(await post({ timeoutMs: 60_000, signal: ac.signal }), { result: 'retry', detail: 'abandoned at shutdown' })
  const closed = `http://127.0.0.1:${await freePort()}/`
  t.same(await postAttempt(closed, { headers: {}, body: '', timeoutMs: 1000, signal: new AbortController().signal, now: () => NOW }), { result: 'retry', detail: 'ECONNREFUSED' })
})
