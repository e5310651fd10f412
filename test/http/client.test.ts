// httpCall against real node:http servers: kept-alive connections for repeated
// polls, and a connection the server drops under a reused request.
import t from 'tap'
import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { httpCall, keepAliveAgent } from '../../src/http/index.js'

async function server(t: { teardown(fn: () => unknown): void }, onRequest: (n: number, socket: Socket, res: import('node:http').ServerResponse) => void) {
  const sockets = new Set<Socket>()
  let connections = 0
  const perSocket = new WeakMap<Socket, number>()
  const srv: Server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1
    perSocket.set(req.socket, n)
    onRequest(n, req.socket, res)
  })
  srv.on('connection', (s) => {
    connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise((r) => srv.close(r))
  })
  return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}/status`, connections: () => connections }
}

t.test('a keep-alive agent polls over one connection; without one, a connection per request', async (t) => {
  const s = await server(t, (_n, _s, res) => res.end('{"ok":true}'))
  const agent = keepAliveAgent(s.url)
  t.teardown(() => agent.destroy())
  for (let i = 0; i < 5; i++) t.equal((await httpCall(s.url, { timeoutMs: 1000, agent })).status, 200)
  t.equal(s.connections(), 1, 'five polls, one connection')
  for (let i = 0; i < 3; i++) await httpCall(s.url, { timeoutMs: 1000 })
  t.equal(s.connections(), 4, 'agent: false (webhooks) still opens one per request')
})

t.test('a kept connection the server drops under the next request: retried once on a new one', async (t) => {
  const s = await server(t, (n, socket, res) => (n === 2 ? socket.destroy() : res.end('ok')))
  const agent = keepAliveAgent(s.url)
  t.teardown(() => agent.destroy())
  t.equal((await httpCall(s.url, { timeoutMs: 1000, agent })).status, 200)
  const second = await httpCall(s.url, { timeoutMs: 1000, agent })
  t.equal(second.status, 200, 'answered on a second connection')
  t.equal(s.connections(), 2)
})

t.test('a first request that fails is not retried; a timeout destroys the kept connection', async (t) => {
  let mode: 'drop' | 'hang' | 'answer' = 'drop'
  const s = await server(t, (_n, socket, res) => (mode === 'drop' ? socket.destroy() : mode === 'answer' ? res.end('ok') : undefined))
  const agent = keepAliveAgent(s.url)
  t.teardown(() => agent.destroy())
  await t.rejects(httpCall(s.url, { timeoutMs: 1000, agent }), { code: 'ECONNRESET' }, 'a fresh connection dropped: the error stands')
  t.equal(s.connections(), 1, 'not retried')
  mode = 'hang'
  // The message is the deadline's own (TimeoutError), not an error of the socket.
  await t.rejects(httpCall(s.url, { timeoutMs: 200, agent }), { code: 'HA_ERR_TIMEOUT', message: 'no answer within 200 ms' })
  mode = 'answer'
  const before = s.connections()
  t.equal((await httpCall(s.url, { timeoutMs: 1000, agent })).status, 200)
  t.equal(s.connections(), before + 1, 'the timed-out connection was not reused')
})

t.test('an abort ends a hanging request; a signal aborted before the call sends nothing', async (t) => {
  const s = await server(t, () => {})
  const ac = new AbortController()
  const pending = httpCall(s.url, { timeoutMs: 60_000, signal: ac.signal })
  setTimeout(() => ac.abort(), 20)
  await t.rejects(pending, { message: 'aborted' }, 'with a 60 s deadline, only the abort ends it')
  const before = s.connections()
  await t.rejects(httpCall(s.url, { timeoutMs: 60_000, signal: AbortSignal.abort() }), { message: 'aborted' })
  await new Promise((r) => setTimeout(r, 50))
  t.equal(s.connections(), before, 'no connection')
})
