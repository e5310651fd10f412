// One request over a socket with a deadline, against servers on loopback and on
// unix sockets in a temp dir that answer, answer half, close early, reset,
// never answer, or are not there: it settles by the deadline with an error
// that has a code, and the socket never outlives it.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SocketError, TimeoutError } from '../../src/errors/index.js'
import { exchange, untilNewline } from '../../src/net/exchange.js'
import { freePort, waitFor } from '../fixtures/procs.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-exchange-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

/** A server (half-open allowed) that records what each connection sent and whether the client ended it; `behave` decides the rest. */
async function server(t: { teardown(fn: () => unknown): void }, where: string | 0, behave: (c: Socket, got: () => string) => void) {
  const conns: Array<{ got: string; ended: boolean }> = []
  const sockets = new Set<Socket>()
  const srv = createServer({ allowHalfOpen: true }, (c) => {
    const conn = { got: '', ended: false }
    conns.push(conn)
    sockets.add(c)
    c.on('error', () => {})
    c.on('data', (d) => (conn.got += d))
    c.on('end', () => (conn.ended = true))
    c.on('close', () => sockets.delete(c))
    behave(c, () => conn.got)
  })
  await new Promise<void>((resolve) => (where === 0 ? srv.listen(0, '127.0.0.1', resolve) : srv.listen(where, resolve)))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        srv.close(() => resolve())
      }),
  )
  const port = (srv.address() as { port?: number }).port
  return { conns, to: where === 0 ? { host: '127.0.0.1', port: port! } : where }
}
const sock = (name: string) => join(dir, `${name}.sock`)
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error)

t.test('the whole answer at the close, by default; over TCP and unix sockets alike', async (t) => {
  for (const where of [sock('answers'), 0 as const]) {
    const s = await server(t, where, (c) => c.once('data', () => c.end('pong\nand more\n')))
    const answer = await exchange({ to: s.to, send: 'ping\n', timeoutMs: 1000, label: 'test server' })
    t.equal(answer.toString(), 'pong\nand more\n')
    t.equal(s.conns[0]!.got, 'ping\n')
  }
})

t.test('complete: the answer as soon as it is whole, and the socket is let go at once', async (t) => {
  // answers one line and keeps its side open: only the client's end shows it let go
  const s = await server(t, sock('line'), (c) => c.once('data', () => c.write('{"ok":true}\nnot this')))
  const line = await exchange({ to: s.to, send: '{}\n', complete: untilNewline, timeoutMs: 60_000, label: 'control socket' })
  t.equal(line.toString(), '{"ok":true}')
  await waitFor('the server to see our end', () => s.conns[0]!.ended || undefined, 5000).catch(() => {})
  t.ok(s.conns[0]!.ended, 'destroyed at once, not left waiting for the rest')
})

t.test('endAfterSend half-closes: a server that answers at the end of the request gets its end', async (t) => {
  // HAProxy's non-interactive mode: reads the command to the end, answers, closes
  const s = await server(t, sock('oneshot'), (c) => c.on('end', () => c.end('answer to ' + JSON.stringify(s.conns.at(-1)!.got))))
  const answer = await exchange({ to: s.to, send: 'show info\n', endAfterSend: true, timeoutMs: 1000, label: 'HAProxy socket' })
  t.equal(answer.toString(), 'answer to "show info\\n"')
  // without it, the same server waits for an end that never comes
  const err = await rejection(exchange({ to: s.to, send: 'show info\n', timeoutMs: 200, label: 'HAProxy socket' }))
  t.type(err, TimeoutError)
})

t.test('a server that never answers: TimeoutError at the deadline, naming the other end; the socket is closed', async (t) => {
  const s = await server(t, sock('silent'), () => {})
  const started = performance.now()
  const err = await rejection(exchange({ to: s.to, send: 'hello\n', timeoutMs: 250, label: 'the silent one' }))
  t.ok(performance.now() - started >= 249, 'not before the deadline')
  t.type(err, TimeoutError)
  t.match(err, { code: 'HA_ERR_TIMEOUT', timeoutMs: 250, message: 'the silent one: no answer within 250 ms' })
  await waitFor('the server to see our end', () => s.conns[0]!.ended || undefined, 5000).catch(() => {})
  t.ok(s.conns[0]!.ended, 'the socket was destroyed')
})

t.test('an abort signal ends it "before the deadline"; an aborted one never connects', async (t) => {
  const s = await server(t, sock('abort'), () => {})
  const ac = new AbortController()
  const pending = rejection(exchange({ to: s.to, send: 'x', timeoutMs: 60_000, signal: ac.signal, label: 'L' }))
  await waitFor('connected', () => s.conns.length || undefined)
  ac.abort()
  t.match(await pending, { code: 'HA_ERR_TIMEOUT', message: 'L: no answer before the deadline' }, 'with a 60 s deadline only the abort settles it')
  await waitFor('the server to see our end', () => s.conns[0]!.ended || undefined, 5000).catch(() => {})
  t.ok(s.conns[0]!.ended, 'the socket was destroyed')
  const already = rejection(exchange({ to: s.to, send: 'x', timeoutMs: 60_000, signal: AbortSignal.abort(), label: 'L' }))
  t.match(await already, { code: 'HA_ERR_TIMEOUT', message: 'L: no answer before the deadline' })
  await new Promise((r) => setTimeout(r, 50))
  t.equal(s.conns.length, 1, 'no second connection')
})

t.test('nobody there: HA_ERR_UNAVAILABLE with the errno (refused, no socket file, a file that is no socket)', async (t) => {
  const port = await freePort()
  const refused = await rejection(exchange({ to: { host: '127.0.0.1', port }, send: 'x', timeoutMs: 1000, label: `127.0.0.1:${port}` }))
  t.type(refused, SocketError)
  t.match(refused, { code: 'HA_ERR_UNAVAILABLE', errno: 'ECONNREFUSED', message: `127.0.0.1:${port}: connection refused (ECONNREFUSED)` })
  const missing = await rejection(exchange({ to: sock('none'), send: 'x', timeoutMs: 1000, label: 'control socket' }))
  t.match(missing, { code: 'HA_ERR_UNAVAILABLE', errno: 'ENOENT', message: 'control socket: no such file or directory (ENOENT)' })
  writeFileSync(sock('stale'), '') // what a SIGKILLed server leaves behind, nobody listening
  const stale = await rejection(exchange({ to: sock('stale'), send: 'x', timeoutMs: 1000, label: 'stale' }))
  t.match(stale, { code: 'HA_ERR_UNAVAILABLE', errno: 'ECONNREFUSED' })
})

t.test('closed before the answer: HA_ERR_SOCKET, saying whether anything came', async (t) => {
  const early = await server(t, sock('early'), (c) => c.once('data', () => c.end()))
  t.match(await rejection(exchange({ to: early.to, send: 'x', complete: untilNewline, timeoutMs: 1000, label: 'E' })), {
    code: 'HA_ERR_SOCKET',
    message: 'E: closed without an answer',
  })
  const half = await server(t, sock('half'), (c) => c.once('data', () => c.end('{"ok":')))
  t.match(await rejection(exchange({ to: half.to, send: 'x', complete: untilNewline, timeoutMs: 1000, label: 'H' })), {
    code: 'HA_ERR_SOCKET',
    message: 'H: closed without a complete answer',
  })
  const reset = await server(t, 0, (c) => c.once('data', () => c.resetAndDestroy()))
  t.match(await rejection(exchange({ to: reset.to, send: 'x', timeoutMs: 1000, label: 'R' })), {
    code: 'HA_ERR_SOCKET',
    errno: 'ECONNRESET',
    message: 'R: connection reset by peer (ECONNRESET)',
  })
})

t.test('bytes go out as they are; the answer is bytes', async (t) => {
  const s = await server(t, 0, (c) => c.once('data', (d: Buffer) => c.end(Buffer.from([d.length, 0xff]))))
  const answer = await exchange({ to: s.to, send: Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]), timeoutMs: 1000, label: 'SSLRequest' })
  t.same([...answer], [8, 0xff])
})
