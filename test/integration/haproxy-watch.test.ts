// The HAProxy watch against a real HAProxy killed with SIGKILL: the held
// runtime API connection closes with the process, so the watch says so without
// waiting for its next probe. (Against sockets that are not HAProxy:
// test/haproxy/watch.test.ts.)
import t from 'tap'
import { createHaproxyWatch } from '../../src/haproxy/index.js'
import { startHaproxy } from '../fixtures/haproxy.js'
import { waitFor } from '../fixtures/procs.js'

t.test('holds the connection past stats timeout, sees HAProxy die and come back', async (t) => {
  const haproxy = await startHaproxy(t)
  const changes: Array<{ up: boolean; detail: string }> = []
  const watch = createHaproxyWatch({
    socket: haproxy.socket,
    intervalMs: 100,
    timeoutMs: 300,
    onChange: (up, detail) => changes.push({ up, detail }),
  })
  t.teardown(() => watch.stop())
  await waitFor('watch up', () => watch.current().up || undefined)
  // Idle longer than HAProxy's `stats timeout 2s`: the probes must keep the connection.
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(watch.current().up, true, 'still up after stats timeout (connection kept busy)')
  t.same(changes.map((c) => c.up), [true], 'no false down')
  await haproxy.kill()
  const down = await waitFor('down', () => changes.find((c) => !c.up))
  t.match(down.detail, /closed the runtime API connection|ECONNRESET|EPIPE/)
  await haproxy.start()
  await waitFor('up again', () => watch.current().up || undefined, 5000)
})

t.test('a SIGKILL is seen from the connection closing, not from a probe (5 kills)', async (t) => {
  // No probe runs during this test (one a minute, and HAProxy's stats timeout is
  // longer): a down seen at all came from the close. The latency is reported,
  // not asserted: the bench measures speed, a loaded CI box only adds noise.
  const haproxy = await startHaproxy(t, { statsTimeout: '5m' })
  const latencies: number[] = []
  for (let i = 0; i < 5; i++) {
    let down: { at: number; detail: string } | undefined
    const watch = createHaproxyWatch({
      socket: haproxy.socket,
      intervalMs: 60_000,
      timeoutMs: 60_000,
      onChange: (up, detail) => {
        if (!up) down = { at: performance.now(), detail }
      },
    })
    await waitFor('watch up', () => watch.current().up || undefined, 5000)
    const killedAt = performance.now()
    await haproxy.kill()
    const seen = await waitFor('down', () => down, 10_000).finally(() => watch.stop())
    t.match(seen.detail, /closed the runtime API connection|ECONNRESET|EPIPE/, `kill ${i + 1}: the connection's close`)
    latencies.push(seen.at - killedAt)
    await haproxy.start()
  }
  const sorted = [...latencies].sort((a, b) => a - b)
  t.comment(`SIGKILL -> onChange(false): median ${sorted[2]!.toFixed(1)} ms, max ${sorted[4]!.toFixed(1)} ms (${latencies.map((l) => l.toFixed(1)).join(', ')})`)
})
