import t from 'tap'
import { createHaproxyWatch } from '../../src/haproxy/index.js'
import { startHaproxy } from '../fixtures/haproxy.js'
import { misbehavingServer, waitFor } from '../fixtures/procs.js'
import { rmSync } from 'node:fs'

t.test('sees HAProxy die within milliseconds and come back', async (t) => {
  const haproxy = await startHaproxy(t)
  const changes: Array<{ up: boolean; detail: string; at: number }> = []
  const watch = createHaproxyWatch({
    socket: haproxy.socket,
    intervalMs: 100,
    timeoutMs: 300,
    onChange: (up, detail) => changes.push({ up, detail, at: performance.now() }),
  })
  t.teardown(() => watch.stop())
  await waitFor('watch up', () => watch.current().up || undefined)
  // Idle longer than HAProxy's `stats timeout 2s`: the keepalive must hold the connection.
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(watch.current().up, true, 'still up after stats timeout (connection kept busy)')
  t.equal(changes.filter((c) => !c.up).length, 0, 'no false down')
  const killedAt = performance.now()
  await haproxy.kill()
  const down = await waitFor('down', () => changes.find((c) => !c.up))
  const detectionMs = down.at - killedAt
  t.comment(`detection latency after SIGKILL: ${detectionMs.toFixed(1)} ms`)
  t.ok(detectionMs < 150, `detected in ${detectionMs.toFixed(1)} ms`)
  t.match(down.detail, /closed the runtime API connection|ECONNRESET|EPIPE/)
  await haproxy.start()
  await waitFor('up again', () => watch.current().up || undefined, 5000)
})

t.test('a socket that accepts but never answers is down after timeoutMs', async (t) => {
  const haproxy = await startHaproxy(t)
  await haproxy.kill()
  rmSync(haproxy.socket, { force: true })
  const hung = await misbehavingServer(haproxy.socket, () => {})
  t.teardown(() => hung.close())
  const seen: string[] = []
  const watch = createHaproxyWatch({ socket: haproxy.socket, intervalMs: 50, timeoutMs: 200, onChange: (_up, d) => seen.push(d) })
  t.teardown(() => watch.stop())
  await new Promise((r) => setTimeout(r, 600))
  t.equal(watch.current().up, false)
  t.match(watch.current().detail, /did not answer within 200 ms/)
})

t.test('detection latency over 5 SIGKILLs (median reported)', async (t) => {
  const haproxy = await startHaproxy(t)
  let downAt: number | undefined
  const watch = createHaproxyWatch({
    socket: haproxy.socket,
    intervalMs: 100,
    timeoutMs: 300,
    onChange: (up) => {
      if (!up) downAt = performance.now()
    },
  })
  t.teardown(() => watch.stop())
  const latencies: number[] = []
  for (let i = 0; i < 5; i++) {
    await waitFor('watch up', () => watch.current().up || undefined, 5000)
    downAt = undefined
    const killedAt = performance.now()
    await haproxy.kill()
    await waitFor('down', () => downAt, 2000, 1)
    latencies.push(downAt! - killedAt)
    await haproxy.start()
  }
  const sorted = [...latencies].sort((a, b) => a - b)
  t.comment(`SIGKILL -> onChange(false): median ${sorted[2]!.toFixed(1)} ms, max ${sorted[4]!.toFixed(1)} ms (${latencies.map((l) => l.toFixed(1)).join(', ')})`)
  // a 100 ms poll would be 50 ms on average; the held connection sees the close at once
  t.ok(sorted[2]! < 50, `median ${sorted[2]!.toFixed(1)} ms`)
})

/** A runtime API stand-in in prompt mode: answers by command, records what it was asked. */
async function fakeRuntimeApi(t: { teardown(fn: () => unknown): void }, answers: Record<string, string>) {
  const { mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const socket = join(mkdtempSync(join(tmpdir(), 'ha-agent-fakeapi-')), 'api.sock')
  const asked: string[] = []
  const srv = await misbehavingServer(socket, (c) => {
    let buf = ''
    c.on('data', (d) => {
      buf += d
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        asked.push(line)
        c.write(line === 'prompt' ? '\n> ' : `${answers[line] ?? 'Unknown command. Please enter one of the following commands only:\n  help\n'}\n> `)
      }
    })
  })
  t.teardown(() => srv.close())
  return { socket, asked }
}

t.test('probes with `show version` once `show info` proved the socket is HAProxy', async (t) => {
  const api = await fakeRuntimeApi(t, { 'show info': 'Name: HAProxy\nPid: 42\n', 'show version': '2.6.12-1+deb12u4\n' })
  const watch = createHaproxyWatch({ socket: api.socket, intervalMs: 20, timeoutMs: 200, onChange: () => {} })
  t.teardown(() => watch.stop())
  await waitFor('a few probes', () => api.asked.length >= 6 || undefined)
  t.same(api.asked.slice(0, 2), ['prompt', 'show info'])
  t.same(new Set(api.asked.slice(2)), new Set(['show version']))
  t.equal(watch.current().up, true)
})

t.test('an HAProxy without `show version`: back to `show info`, still up', async (t) => {
  const api = await fakeRuntimeApi(t, { 'show info': 'Name: HAProxy\nPid: 42\n' })
  const changes: boolean[] = []
  const watch = createHaproxyWatch({ socket: api.socket, intervalMs: 20, timeoutMs: 200, onChange: (up) => changes.push(up) })
  t.teardown(() => watch.stop())
  await waitFor('a few probes', () => api.asked.length >= 8 || undefined)
  t.same(api.asked.slice(0, 3), ['prompt', 'show info', 'show version'])
  t.same(new Set(api.asked.slice(3)), new Set(['show info']))
  t.same(changes, [true], 'never down')
})

t.test('something else answering `show version`: down', async (t) => {
  const api = await fakeRuntimeApi(t, { 'show info': 'Name: HAProxy\nPid: 42\n', 'show version': 'hello\n' })
  const watch = createHaproxyWatch({ socket: api.socket, intervalMs: 20, timeoutMs: 200, onChange: () => {} })
  t.teardown(() => watch.stop())
  await waitFor('down', () => /unexpected answer/.test(watch.current().detail) || undefined)
})
