// The PgBouncer probe on held connections against stand-ins that behave as
// PgBouncer does (answer every SSLRequest with N on one connection), as
// PostgreSQL does (answer the second with an error and close), and ones that
// freeze, close, die or answer garbage. A held connection never passes a round
// it did not answer. (Real PgBouncers: test/integration/check-pgbouncer.test.ts.)
import t from 'tap'
import { createServer, type Server, type Socket } from 'node:net'
import { HeldProtocolProbes } from '../../src/checks/held-probe.js'
import { waitFor } from '../fixtures/procs.js'

interface StandIn {
  target: string
  port: number
  /** connections accepted, requests read */
  conns: number
  requests: number
  closed: number
  sockets: Socket[]
  /** how the next request on a connection is answered */
  mode: 'N' | 'postgres' | 'silent' | 'garbage'
  /** the next request asked again on a held connection closes it unanswered (a PgBouncer restarting) */
  closeOnRepeat: boolean
  server: Server
}

async function standIn(t: { teardown(fn: () => unknown): void }): Promise<StandIn> {
  const s = { conns: 0, requests: 0, closed: 0, sockets: [] as Socket[], mode: 'N', closeOnRepeat: false } as StandIn
  s.server = createServer((c) => {
    s.conns++
    s.sockets.push(c)
    let perConn = 0
    let got = Buffer.alloc(0)
    c.on('error', () => {})
    c.on('close', () => s.closed++)
    c.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d])
      while (got.length >= 8) {
        got = got.subarray(8)
        s.requests++
        perConn++
        if (perConn > 1 && s.closeOnRepeat) {
          s.closeOnRepeat = false
          c.destroy()
          return
        }
        if (s.mode === 'N') c.write('N')
        else if (s.mode === 'postgres') {
          if (perConn === 1) c.write('N')
          else c.end('E\0\0\0\x10SFATAL\0C0A000\0\0')
        } else if (s.mode === 'garbage') c.write('HTTP/1.1 400 Bad Request\r\n\r\n')
      }
    })
  })
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r))
  s.port = (s.server.address() as { port: number }).port
  s.target = `127.0.0.1:${s.port}`
  t.teardown(() => {
    for (const c of s.sockets) c.destroy()
    s.server.close()
  })
  return s
}

const probes = (t: { teardown(fn: () => unknown): void }) => {
  const p = new HeldProtocolProbes()
  t.teardown(() => p.close())
  return p
}

t.test('PgBouncer answers again and again on one connection: one connection for many rounds', async (t) => {
  const s = await standIn(t)
  const p = probes(t)
  for (let i = 0; i < 5; i++) t.ok((await p.probe(s.target, 1000, 30_000)) >= 0)
  t.equal(s.conns, 1, 'one connection')
  t.equal(s.requests, 5, 'five SSLRequests on it')
})

t.test('reconnect_interval_ms: a new connection once the held one is that old; 0: a new one every round', async (t) => {
  const s = await standIn(t)
  const p = probes(t)
  await p.probe(s.target, 1000, 100)
  await p.probe(s.target, 1000, 100)
  t.equal(s.conns, 1)
  await new Promise((r) => setTimeout(r, 150))
  await p.probe(s.target, 1000, 100)
  t.equal(s.conns, 2, 'renewed after 100 ms')
  await waitFor('the old connection closed', () => s.closed >= 1 || undefined, 2000, 10)
  const q = probes(t)
  const before = s.conns
  await q.probe(s.target, 1000, 0)
  await q.probe(s.target, 1000, 0)
  t.equal(s.conns - before, 2, 'reconnect_interval_ms 0: a connection per round, as probeProtocol')
})

t.test('PostgreSQL answers the second SSLRequest with an error and closes: still the protocol; the next round connects anew', async (t) => {
  const s = await standIn(t)
  s.mode = 'postgres'
  const p = probes(t)
  await p.probe(s.target, 1000, 30_000)
  await p.probe(s.target, 1000, 30_000)
  await p.probe(s.target, 1000, 30_000)
  t.equal(s.conns, 2, 'the connection the error closed was not asked again')
})

t.test('a held connection the server closed between rounds: the next round connects anew', async (t) => {
  const s = await standIn(t)
  const p = probes(t)
  await p.probe(s.target, 1000, 30_000)
  s.sockets[0]!.destroy()
  await new Promise((r) => setTimeout(r, 50))
  await p.probe(s.target, 1000, 30_000)
  t.equal(s.conns, 2)
})

t.test('closed while asked: a new connection within the same deadline; a server that is gone fails, never passes', async (t) => {
  const s = await standIn(t)
  const p = probes(t)
  await p.probe(s.target, 1000, 30_000)
  s.closeOnRepeat = true
  t.ok((await p.probe(s.target, 1000, 30_000)) >= 0, 'answered on a new connection')
  t.equal(s.conns, 2)
  // now the server goes away altogether
  for (const c of s.sockets) c.destroy()
  await new Promise<void>((r) => s.server.close(() => r()))
  await t.rejects(p.probe(s.target, 1000, 30_000), new RegExp(`^${s.target}: ECONNREFUSED$`))
})

t.test('a frozen server: no answer by the deadline, the held connection destroyed', async (t) => {
  const s = await standIn(t)
  const p = probes(t)
  await p.probe(s.target, 1000, 30_000)
  s.mode = 'silent'
  const started = performance.now()
  await t.rejects(p.probe(s.target, 300, 30_000), new RegExp(`^${s.target}: no answer within 300 ms$`))
  t.ok(performance.now() - started >= 290, 'waited for the deadline')
  await waitFor('the server to see the held connection close', () => s.closed >= 1 || undefined, 2000, 10)
  t.equal(s.closed, 1, 'destroyed, not asked again')
  // and the next round is a new connection that must answer too
  await t.rejects(p.probe(s.target, 200, 30_000), /no answer within 200 ms/)
  t.equal(s.conns, 2)
})

t.test('an abort ends the round; garbage drops the connection', async (t) => {
  const s = await standIn(t)
  const p = probes(t)
  await p.probe(s.target, 1000, 30_000)
  s.mode = 'silent'
  const ac = new AbortController()
  const pending = p.probe(s.target, 60_000, 30_000, ac.signal)
  setTimeout(() => ac.abort(), 20)
  await t.rejects(pending, /no answer before the deadline/)
  s.mode = 'garbage'
  await t.rejects(p.probe(s.target, 1000, 30_000), /not the PostgreSQL protocol \(answered 0x48\)/)
  s.mode = 'N'
  await p.probe(s.target, 1000, 30_000)
  t.equal(s.conns, 3, 'neither the aborted nor the garbled connection was asked again')
})

t.test('close() lets go of every held connection', async (t) => {
  const a = await standIn(t)
  const b = await standIn(t)
  const p = new HeldProtocolProbes()
  await p.probe(a.target, 1000, 30_000)
  await p.probe(b.target, 1000, 30_000)
  p.close()
  await waitFor('both closed', () => (a.closed === 1 && b.closed === 1) || undefined, 2000, 10)
  t.pass('closed')
})
