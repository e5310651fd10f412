// The HAProxy watch against runtime API stand-ins on unix sockets: the probe
// it settles on, and each way of not being HAProxy. (A real HAProxy killed
// under it: test/integration/haproxy-watch.test.ts.)
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHaproxyWatch } from '../../src/haproxy/index.js'
import { fakeRuntimeApi } from '../fixtures/haproxy.js'
import { misbehavingServer, waitFor } from '../fixtures/procs.js'

const INFO = 'Name: HAProxy\nPid: 42\n'

t.test('a socket that accepts but never answers is down after timeoutMs, never up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-watch-'))
  const hung = await misbehavingServer(join(dir, 'hung.sock'), () => {})
  t.teardown(async () => {
    await hung.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const seen: Array<[boolean, string]> = []
  const watch = createHaproxyWatch({ socket: join(dir, 'hung.sock'), intervalMs: 50, timeoutMs: 200, onChange: (up, d) => seen.push([up, d]) })
  t.teardown(() => watch.stop())
  await waitFor('down', () => seen.length > 0 || undefined)
  t.same(seen, [[false, 'HAProxy did not answer within 200 ms']])
  t.equal(watch.current().up, false)
})

t.test('no socket file, and a socket nobody listens on: down, naming the socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-watch-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const missing = join(dir, 'none.sock')
  const watch = createHaproxyWatch({ socket: missing, intervalMs: 50, timeoutMs: 200, onChange: () => {} })
  t.teardown(() => watch.stop())
  await waitFor('down', () => (watch.current().detail !== 'not checked yet' ? true : undefined))
  t.same([watch.current().up, watch.current().detail], [false, `HAProxy socket ${missing}: ENOENT`])
  // what a SIGKILLed HAProxy leaves behind: the file, nobody listening
  const stale = join(dir, 'stale.sock')
  writeFileSync(stale, '')
  const staleWatch = createHaproxyWatch({ socket: stale, intervalMs: 50, timeoutMs: 200, onChange: () => {} })
  t.teardown(() => staleWatch.stop())
  await waitFor('down', () => (staleWatch.current().detail !== 'not checked yet' ? true : undefined))
  t.same([staleWatch.current().up, staleWatch.current().detail], [false, `HAProxy socket ${stale}: ECONNREFUSED`])
})

t.test('HAProxy killed while a command of ours sits unread in its socket (a reset, not a close): "closed the runtime API connection" all the same', async (t) => {
  // A stand-in in a process of its own, stopped (SIGSTOP) so that the watch's
  // next keep-alive stays unread in the kernel, then SIGKILLed: the kernel
  // resets the watch's end (ECONNRESET), as with a real HAProxy killed so.
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-watch-'))
  const socket = join(dir, 'ha.sock')
  const standIn = `
    const net = require('node:net')
    net.createServer((c) => {
      let buf = ''
      c.on('data', (d) => {
        buf += String(d)
        let i
        while ((i = buf.indexOf('\\n')) >= 0) {
          const cmd = buf.slice(0, i)
          buf = buf.slice(i + 1)
          c.write(cmd === 'prompt' ? '\\n> ' : cmd === 'show info' ? ${JSON.stringify(INFO)} + '\\n> ' : '2.6.12\\n\\n> ')
        }
      })
    }).listen(process.argv[1], () => process.stdout.write('listening\\n'))`
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, ['-e', standIn, socket], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  await new Promise((r) => child.stdout!.once('data', r))
  const seen: Array<[boolean, string]> = []
  const watch = createHaproxyWatch({ socket, intervalMs: 20, timeoutMs: 5000, onChange: (up, d) => seen.push([up, d]) })
  t.teardown(() => watch.stop())
  await waitFor('up', () => watch.current().up || undefined)
  child.kill('SIGSTOP')
  await new Promise((r) => setTimeout(r, 150)) // keep-alives written, none read
  child.kill('SIGKILL')
  await waitFor('down', () => seen.find(([up]) => !up))
  t.match(seen.find(([up]) => !up)?.[1], /^HAProxy closed the runtime API connection \(.*ha\.sock(: ECONNRESET|: EPIPE)?\)$/)
})

t.test('probes with `show version` once `show info` proved the socket is HAProxy', async (t) => {
  const api = await fakeRuntimeApi(t, { 'show info': INFO, 'show version': '2.6.12-1+deb12u4\n' })
  const watch = createHaproxyWatch({ socket: api.socket, intervalMs: 20, timeoutMs: 200, onChange: () => {} })
  t.teardown(() => watch.stop())
  await waitFor('a few probes', () => api.asked.length >= 6 || undefined)
  t.same(api.asked.slice(0, 2), ['prompt', 'show info'])
  t.same(new Set(api.asked.slice(2)), new Set(['show version']))
  t.equal(watch.current().up, true)
})

t.test('an HAProxy without `show version`: back to `show info`, still up', async (t) => {
  const api = await fakeRuntimeApi(t, { 'show info': INFO })
  const changes: boolean[] = []
  const watch = createHaproxyWatch({ socket: api.socket, intervalMs: 20, timeoutMs: 200, onChange: (up) => changes.push(up) })
  t.teardown(() => watch.stop())
  await waitFor('a few probes', () => api.asked.length >= 8 || undefined)
  t.same(api.asked.slice(0, 3), ['prompt', 'show info', 'show version'])
  t.same(new Set(api.asked.slice(3)), new Set(['show info']))
  t.same(changes, [true], 'never down')
})

t.test('something else answering `show version`, or `show info` without a Pid: down', async (t) => {
  const odd = await fakeRuntimeApi(t, { 'show info': INFO, 'show version': 'hello\n' })
  const watch = createHaproxyWatch({ socket: odd.socket, intervalMs: 20, timeoutMs: 200, onChange: () => {} })
  t.teardown(() => watch.stop())
  await waitFor('down', () => /unexpected answer/.test(watch.current().detail) || undefined)
  t.same([watch.current().up, watch.current().detail], [false, `unexpected answer from ${odd.socket}`])
  const notHaproxy = await fakeRuntimeApi(t, { 'show info': 'Name: something\n' })
  const changes: Array<[boolean, string]> = []
  const other = createHaproxyWatch({ socket: notHaproxy.socket, intervalMs: 20, timeoutMs: 200, onChange: (up, d) => changes.push([up, d]) })
  t.teardown(() => other.stop())
  await waitFor('down', () => changes.length > 0 || undefined)
  t.same(changes[0], [false, `unexpected answer from ${notHaproxy.socket}`])
})

t.test('stop() closes the connection and no change is reported after it', async (t) => {
  const api = await fakeRuntimeApi(t, { 'show info': INFO, 'show version': '2.6.12\n' })
  const changes: boolean[] = []
  const watch = createHaproxyWatch({ socket: api.socket, intervalMs: 20, timeoutMs: 200, onChange: (up) => changes.push(up) })
  await waitFor('up', () => watch.current().up || undefined)
  watch.stop()
  const asked = api.asked.length
  await new Promise((r) => setTimeout(r, 100))
  t.equal(api.asked.length, asked, 'no probe after stop')
  t.same(changes, [true], 'the close it caused is not a down')
})

t.test('ask(): a command on the held connection, answered as outside prompt mode; the keep-alive skipped while asks keep it busy', async (t) => {
  const STAT = '# pxname,svname,status\nfe,FRONTEND,OPEN\n'
  const api = await fakeRuntimeApi(t, { 'show info': INFO, 'show version': '2.6.12\n', 'show stat': STAT })
  const watch = createHaproxyWatch({ socket: api.socket, intervalMs: 100, timeoutMs: 300, onChange: () => {} })
  t.teardown(() => watch.stop())
  t.equal(watch.ask('show stat', 100), undefined, 'nothing to ask on before the watch has its answer')
  await waitFor('up', () => watch.current().up || undefined)
  t.equal(await watch.ask('show info;show stat', 500), `${INFO}\n${STAT}\n`, 'both answers, each with its empty line, no prompt')
  const probesBefore = api.asked.filter((a) => a === 'show version').length
  for (let i = 0; i < 8; i++) {
    await watch.ask('show stat', 500)
    await new Promise((r) => setTimeout(r, 50))
  }
  const probes = api.asked.filter((a) => a === 'show version').length - probesBefore
  t.ok(probes <= 1, `no keep-alive while asks come every 50 ms (${probes} sent)`)
  t.equal(api.asked.filter((a) => a === 'prompt').length, 1, 'one connection throughout')
})

t.test('ask(): no answer by its deadline rejects the caller only; HAProxy gone fails the asks under way', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-watch-'))
  let answerStat = true
  const conns: Array<{ destroy(): void }> = []
  const srv = await misbehavingServer(join(dir, 'slow.sock'), (c) => {
    conns.push(c)
    c.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        if (line === 'prompt') c.write('\n> ')
        else if (line === 'show info') c.write(`${INFO}\n> `)
        else if (line === 'show stat' && answerStat) c.write('# pxname,svname,status\n\n> ')
        else if (line === 'show version') c.write('2.6.12\n\n> ')
      }
    })
  })
  t.teardown(async () => {
    await srv.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const changes: boolean[] = []
  const watch = createHaproxyWatch({ socket: join(dir, 'slow.sock'), intervalMs: 1000, timeoutMs: 3000, onChange: (up) => changes.push(up) })
  t.teardown(() => watch.stop())
  await waitFor('up', () => watch.current().up || undefined)
  answerStat = false
  await t.rejects(watch.ask('show stat', 100)!, /no answer to "show stat" within 100 ms/)
  t.equal(watch.current().up, true, "the caller's deadline is not the watch's: still up")
  const pending = watch.ask('show stat', 5000)!
  for (const c of conns) c.destroy()
  await t.rejects(pending, /HAProxy closed the runtime API connection/)
  t.same(changes, [true, false])
})
