// A peer heard on its push stream (the real /status/stream of buildApp, over
// TLS where it matters) and polled only as proof of life; a peer that is
// killed, goes silent (partitioned, frozen), refuses the token, or has no
// stream (an older ha-agent): unreachable in time, or polled as before.
import t from 'tap'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { buildApp } from '../../src/api/app.js'
import { createMetrics } from '../../src/api/metrics.js'
import { StatusFeed } from '../../src/api/stream.js'
import type { StatusSnapshot } from '../../src/api/status.js'
import { PeerLink } from '../../src/cluster/peer-link.js'
import { checkBearer } from '../../src/cluster/index.js'
import { eventData, openPeerStream } from '../../src/cluster/stream.js'
import { buildConfig } from '../../src/config/index.js'
import { createLogger, silentLogger } from '../../src/log/index.js'
import { fakeSnapshot } from '../fixtures/snapshot.js'
import { waitFor } from '../fixtures/procs.js'
import { makeTestPki } from '../fixtures/tls.js'

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'
const pki = makeTestPki(t)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const peerSnapshot = (over: Partial<StatusSnapshot> = {}): StatusSnapshot => ({ ...fakeSnapshot(), node: 'ha2', track_file: null, checks: [{ name: 'postgres', status: 'pass', latency_ms: 1, detail: 'ok', checked_at: new Date().toISOString() }], ...over })

/** A peer: the daemon's own app (GET /status and /status/stream), counting /status polls. */
async function peer(t: { teardown(fn: () => unknown): void }, opts: { tls?: boolean } = {}) {
  let snap = peerSnapshot()
  const feed = new StatusFeed(() => snap)
  const app = buildApp({
    snapshot: () => snap,
    metrics: createMetrics(() => snap),
    logger: silentLogger,
    authorize: (h) => checkBearer(h, TOKEN),
    feed,
    ...(opts.tls ? { https: { cert: pki.pem.cert, key: pki.pem.key } } : {}),
  })
  let polls = 0
  app.addHook('onRequest', async (req) => {
    if (req.url === '/status') polls++
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  let closed = false
  t.teardown(() => (closed ? undefined : app.close()))
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    polls: () => polls,
    set(over: Partial<StatusSnapshot>) {
      snap = peerSnapshot(over)
      feed.changed()
    },
    async kill() {
      closed = true
      await app.close()
    },
  }
}

/** A plain server the test scripts: (req, res, socket) per request. */
async function scripted(t: { teardown(fn: () => unknown): void }, handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>()
  const srv: Server = createHttpServer(handle)
  srv.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    srv.close()
  })
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
}

function link(t: { teardown(fn: () => unknown): void }, url: string, cluster: Record<string, unknown> = {}, token = TOKEN, logger = silentLogger) {
  const settings = buildConfig({ peers: [url], cluster: { poll_interval_ms: 200, poll_timeout_ms: 150, full_poll_interval_ms: 60_000, ...cluster } }, null, { env: {} }).cluster
  const changes: string[] = []
  const l = new PeerLink({ url, settings, logger, token: () => token, ca: () => pki.pem.ca, changed: (how) => changes.push(how) })
  t.teardown(() => l.stop())
  return { l, changes }
}

t.test('eventData reads an event of one type, its data lines joined', async (t) => {
  t.equal(eventData('event: status\ndata: {"a":1}', 'status'), '{"a":1}')
  t.equal(eventData('event: status\ndata: a\ndata: b', 'status'), 'a\nb')
  t.equal(eventData('event: other\ndata: x', 'status'), undefined)
  t.equal(eventData('data: x', 'status'), undefined, 'an unnamed event is a "message"')
})

t.test('a peer that pushes: its view from the stream over TLS, a change within ms, no poll every interval', async (t) => {
  const p = await peer(t, { tls: true })
  const { l } = link(t, p.url)
  await waitFor('the pushed view', () => (l.pushing() && l.view.reachable) || undefined, 5000, 10)
  t.equal(l.view.node, 'ha2')
  const pollsAtStart = p.polls()
  await sleep(1000)
  t.ok(p.polls() - pollsAtStart <= 1, `polls while it pushes: ${p.polls() - pollsAtStart} in 1 s at poll_interval_ms 200 (full_poll_interval_ms 60 s)`)
  const seen = l.view.last_seen
  await sleep(300)
  t.not(l.view.last_seen, seen, 'heartbeats move last_seen')
  const at = Date.now()
  p.set({ healthy: false, checks: [{ name: 'postgres', status: 'fail', latency_ms: 1, detail: 'down', checked_at: new Date().toISOString() }] })
  await waitFor('the pushed change', () => (l.view.healthy === false) || undefined, 2000, 5)
  t.ok(Date.now() - at < 500, `pushed in ${Date.now() - at} ms`)
  t.match(l.view.checks, [{ name: 'postgres', status: 'fail', detail: 'down', checked_at: /^\d{4}-\d\d-\d\dT/ }], "with the peer's checked_at (a relative fault confirms on it)")
  // hurry(): a poll at once, which is what confirms a relative fault
  const before = l.polledFrom
  l.hurry(0)
  await waitFor('a poll', () => (l.polledFrom > before) || undefined, 2000, 5)
  t.pass('hurried: polled')
})

t.test('a peer killed: unreachable at once, polled at the usual interval, pushing again once it is back', async (t) => {
  const p = await peer(t)
  const { l } = link(t, p.url)
  await waitFor('pushing', () => l.pushing() || undefined, 5000, 10)
  const at = Date.now()
  await p.kill()
  await waitFor('unreachable', () => (!l.view.reachable) || undefined, 2000, 5)
  t.ok(Date.now() - at < 400, `unreachable ${Date.now() - at} ms after the peer closed`)
  t.equal(l.pushing(), false)
})

t.test('a silent stream (a peer partitioned off or frozen): unreachable after poll_interval_ms + poll_timeout_ms', async (t) => {
  let quiet = false
  const url = await scripted(t, (req, res) => {
    if (req.url?.startsWith('/status/stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`event: status\ndata: ${JSON.stringify(peerSnapshot())}\n\n`)
      const beat = setInterval(() => (quiet ? undefined : res.write(':\n\n')), 100)
      res.on('close', () => clearInterval(beat))
      return
    }
    // polls do not answer either (the peer is cut off)
    if (quiet) return
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(peerSnapshot()))
  })
  const { l } = link(t, url, { poll_interval_ms: 300, poll_timeout_ms: 200 })
  await waitFor('pushing', () => l.pushing() || undefined, 5000, 10)
  await sleep(400)
  t.ok(l.view.reachable, 'heartbeats keep it reachable')
  const at = Date.now()
  quiet = true
  await waitFor('unreachable', () => (!l.view.reachable) || undefined, 3000, 5)
  const ms = Date.now() - at
  t.ok(ms >= 300 && ms <= 700, `seen unreachable ${ms} ms after the last heartbeat (silence limit 500 ms)`)
  t.match(l.view.error, /no word on the push stream within 500 ms|no answer within 200 ms/)
})

t.test('a peer that refuses the token: unreachable, saying so; a peer without a stream: polled every interval', async (t) => {
  const p = await peer(t)
  const { l } = link(t, p.url, {}, 'another-token-another-token-anoth')
  await waitFor('a refusal', () => l.view.error || undefined, 3000, 10)
  await sleep(300)
  t.equal(l.view.reachable, false)
  t.match(l.view.error, /HTTP 401 \(the peer wants another token/)
  t.equal(l.pushing(), false)

  // an older ha-agent: /status answers, /status/stream is a 404
  let polls = 0
  let streams = 0
  const old = await scripted(t, (req, res) => {
    if (req.url === '/status') {
      polls++
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(peerSnapshot()))
    } else {
      streams++
      res.writeHead(404).end('{}')
    }
  })
  const lines: string[] = []
  const logger = createLogger({ destination: { write: (s: string) => void lines.push(s) } })
  const o = link(t, old, { poll_interval_ms: 100 }, TOKEN, logger)
  await sleep(1000)
  t.equal(o.l.view.reachable, true, 'reachable through its polls')
  t.equal(o.l.pushing(), false)
  t.ok(polls >= 6, `polled every 100 ms (${polls} in 1 s)`)
  t.equal(streams, 1, 'the stream asked for once, not at every poll')
  t.equal(lines.filter((l) => /pushes no state/.test(l)).length, 1, 'said once that it is polled')
})

t.test('openPeerStream: a peer that accepts and never answers ends by the connect deadline', async (t) => {
  const url = await scripted(t, () => {})
  const ended = await new Promise<{ error: string }>((resolve) => {
    openPeerStream(url, { heartbeatMs: 100, silenceMs: 300, connectTimeoutMs: 150 }, { status: () => {}, beat: () => {}, end: resolve })
  })
  t.equal(ended.error, 'no answer within 150 ms')
})
