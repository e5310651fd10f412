// The one way checks talk to PostgreSQL/PgBouncer: a deadline over connect and
// queries, and nothing left open after giving up. The socket is destroyed
// through pg's private `connection.stream`: if a pg upgrade moves it, the
// "socket closed" assertions here fail.
import t from 'tap'
import { createServer, type Socket } from 'node:net'
import { destroyPgClient, withPgSession } from '../../src/checks/pg-client.js'
import { hasCode } from '../../src/errors/index.js'
import { waitFor } from '../fixtures/procs.js'

async function silentServer(t: { teardown(fn: () => unknown): void }, onData?: (c: Socket) => void) {
  // accepts, reads, never answers
  const conns: Socket[] = []
  const closed: number[] = []
  const srv = createServer((c) => {
    conns.push(c)
    c.on('error', () => {})
    c.on('close', () => closed.push(Date.now()))
    // read (and drop) what the client sends, so that its close is seen
    c.on('data', () => onData?.(c))
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const c of conns) c.destroy()
    srv.close()
  })
  return { port: (srv.address() as { port: number }).port, closed }
}

t.test('no answer to the startup packet: "no connection within", and the socket is closed at once', async (t) => {
  const srv = await silentServer(t)
  const err = await withPgSession({ host: '127.0.0.1', port: srv.port, user: 'x', database: 'x' }, 300, undefined, async () => 1).catch((e) => e)
  t.ok(hasCode(err, 'HA_ERR_TIMEOUT'))
  t.equal(err.message, 'no connection within 300 ms')
  // The server never answers, so only a destroyed socket closes: end() would wait for it forever.
  await waitFor('the server to see the close', () => srv.closed.length || undefined, 5000).catch(() => {})
  t.equal(srv.closed.length, 1, 'the server saw the socket close: pg.Client.connection.stream is still where destroyPgClient looks')
})

t.test('an abort ends it "before the deadline"', async (t) => {
  const srv = await silentServer(t)
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  const err = await withPgSession({ host: '127.0.0.1', port: srv.port, user: 'x', database: 'x' }, 5000, ac.signal, async () => 1).catch((e) => e)
  t.equal(err.message, 'no answer before the deadline')
  await waitFor('the server to see the close', () => srv.closed.length || undefined, 5000).catch(() => {})
  t.equal(srv.closed.length, 1)
})

t.test('destroyPgClient on a client that never connected is harmless', async (t) => {
  const { default: pg } = await import('pg')
  t.doesNotThrow(() => destroyPgClient(new pg.Client()))
})
