// GET /status/stream: the snapshot pushed when it changes (what moves every
// round aside), a heartbeat at the interval the listener asks for, the token
// asked as for /status, and app.close() not held up by a listener.
import t from 'tap'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/api/app.js'
import { createMetrics } from '../../src/api/metrics.js'
import { heartbeatFrom, StatusFeed } from '../../src/api/stream.js'
import type { StatusSnapshot } from '../../src/api/status.js'
import { checkBearer } from '../../src/cluster/index.js'
import { silentLogger } from '../../src/log/index.js'
import { fakeSnapshot } from '../fixtures/snapshot.js'

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'
const turn = () => new Promise((r) => setImmediate(r))
const check = (latency: number, status: 'pass' | 'fail' = 'pass') => ({ name: 'postgres', status, latency_ms: latency, detail: 'SELECT 1', checked_at: new Date().toISOString() })

t.test('the feed pushes a snapshot only when more than latencies, check times and last_seen changed', async (t) => {
  let snap: StatusSnapshot = { ...fakeSnapshot(), checks: [check(1)] }
  const feed = new StatusFeed(() => snap)
  const got: string[] = []
  feed.changed()
  await turn()
  const sub = feed.subscribe((json) => got.push(json))
  t.equal(JSON.parse(sub.current).node, 'ha1', 'the current snapshot at once')
  snap = { ...snap, checks: [check(7)], peers: snap.peers.map((p) => ({ ...p, last_seen: new Date().toISOString() })) }
  feed.changed()
  feed.changed()
  await turn()
  t.same(got, [], 'a new latency, check time and last_seen: nothing pushed')
  snap = { ...snap, checks: [check(7, 'fail')] }
  feed.changed()
  feed.changed()
  await turn()
  t.equal(got.length, 1, 'a check that fails: pushed once, however often changed() was called in the turn')
  t.equal(JSON.parse(got[0]!).checks[0].status, 'fail')
  snap = { ...snap, outbox: { ...snap.outbox, pending: 9 } }
  feed.changed()
  await turn()
  t.equal(got.length, 2, 'any other field: pushed (the whole snapshot, so new fields flow)')
  sub.unsubscribe()
  snap = { ...snap, healthy: false }
  feed.changed()
  await turn()
  t.equal(got.length, 2, 'no listener, no push')
})

t.test('heartbeat_ms is taken within bounds', async (t) => {
  t.equal(heartbeatFrom({ heartbeat_ms: '250' }), 250)
  t.equal(heartbeatFrom({ heartbeat_ms: '1' }), 100)
  t.equal(heartbeatFrom({ heartbeat_ms: '999999999' }), 60_000)
  t.equal(heartbeatFrom({}), 1000)
  t.equal(heartbeatFrom({ heartbeat_ms: 'x' }), 1000)
})

async function serve(t: { teardown(fn: () => unknown): void }, snap: () => StatusSnapshot) {
  const feed = new StatusFeed(snap)
  const app = buildApp({ snapshot: snap, metrics: createMetrics(snap), logger: silentLogger, authorize: (h) => checkBearer(h, TOKEN), feed })
  await app.listen({ host: '127.0.0.1', port: 0 })
  let closed = false
  t.teardown(() => (closed ? undefined : app.close()))
  return {
    feed,
    port: (app.server.address() as AddressInfo).port,
    close: async () => {
      closed = true
      await app.close()
    },
  }
}

/** Reads the stream: its events (status data or 'beat') with their arrival time. */
function listen(port: number, query: string, token = TOKEN) {
  const events: Array<{ at: number; kind: 'status' | 'beat'; data?: string }> = []
  let status = 0
  let ended = false
  let buf = ''
  const req = request({ host: '127.0.0.1', port, path: `/status/stream${query}`, headers: { authorization: `Bearer ${token}` } }, (res) => {
    status = res.statusCode ?? 0
    res.setEncoding('utf8')
    res.on('data', (c: string) => {
      buf += c
      let cut
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut)
        buf = buf.slice(cut + 2)
        events.push(block.startsWith(':') ? { at: Date.now(), kind: 'beat' } : { at: Date.now(), kind: 'status', data: block.split('\n').find((l) => l.startsWith('data: '))!.slice(6) })
      }
    })
    res.on('close', () => (ended = true))
  })
  req.on('error', () => (ended = true))
  req.end()
  return { events, status: () => status, ended: () => ended, close: () => req.destroy() }
}

t.test('the route: the snapshot first, pushes on change, heartbeats at the asked interval; the token is asked', async (t) => {
  let snap: StatusSnapshot = { ...fakeSnapshot(), checks: [check(1)] }
  const srv = await serve(t, () => snap)
  const l = listen(srv.port, '?heartbeat_ms=100')
  t.teardown(() => l.close())
  await new Promise((r) => setTimeout(r, 550))
  t.equal(l.status(), 200)
  t.equal(l.events[0]?.kind, 'status', 'the snapshot first')
  t.equal(JSON.parse(l.events[0]!.data!).node, 'ha1')
  const beats = l.events.filter((e) => e.kind === 'beat').length
  t.ok(beats >= 3 && beats <= 6, `a heartbeat every 100 ms (${beats} in 550 ms)`)
  snap = { ...snap, healthy: false }
  srv.feed.changed()
  await new Promise((r) => setTimeout(r, 50))
  const statuses = l.events.filter((e) => e.kind === 'status')
  t.equal(statuses.length, 2, 'the change pushed')
  t.equal(JSON.parse(statuses[1]!.data!).healthy, false)

  const refused = listen(srv.port, '', 'wrong-token-wrong-token-wrong-tok')
  await new Promise((r) => setTimeout(r, 100))
  t.equal(refused.status(), 401, 'a wrong token: 401, as for /status')
  t.same(refused.events, [])

  const started = Date.now()
  await srv.close()
  t.ok(Date.now() - started < 2000, 'close() ends the streams instead of waiting for the listeners')
  await new Promise((r) => setTimeout(r, 50))
  t.ok(l.ended(), 'the listener saw the end')
})
