// The instant of a hand-over, from HAProxy's frontend sessions (injected
// samples and clock): right after a session closes with none opening, after a
// quiet spell, or at the deadline; at once when HAProxy does not answer.
import t from 'tap'
import { describeInstant, pickInstant, QUIET_MS } from '../../src/daemon/idle-instant.js'
import type { SessionSample } from '../../src/haproxy/index.js'

/** samples every `stepMs` of a fake clock */
function feed(samples: Array<SessionSample | Error>, stepMs = 1) {
  let now = 0
  let i = 0
  return {
    now: () => now,
    sample: async () => {
      now += stepMs
      const s = samples[Math.min(i++, samples.length - 1)]!
      if (s instanceof Error) throw s
      return s
    },
    taken: () => i,
  }
}
const s = (scur: number, stot: number): SessionSample => ({ scur, stot })

t.test('idle: a session just closed and none opened', async (t) => {
  const f = feed([s(1, 10), s(1, 10), s(0, 10)])
  const i = await pickInstant({ ...f, learnMs: 0 })
  t.match(i, { kind: 'idle', samples: 3, last: { scur: 0 } })
  t.equal(i.waitedMs, 3)
})

t.test('a session that closed while another opened is no idle instant', async (t) => {
  const f = feed([s(1, 10), s(0, 11), s(1, 12), s(1, 12), s(0, 12)])
  t.match(await pickInstant({ ...f, learnMs: 0 }), { kind: 'idle', samples: 5 })
})

t.test('long-lived sessions (a pool, or orphans) only: quiet once nothing changed for QUIET_MS', async (t) => {
  const f = feed([s(3, 100)], 5)
  const i = await pickInstant(f)
  t.match(i, { kind: 'quiet', last: { scur: 3 } })
  t.ok(i.waitedMs >= QUIET_MS && i.waitedMs < QUIET_MS + 10, `waited ${i.waitedMs} ms`)
  t.match(describeInstant(i), /no session opened or closed for 50 ms .*3 open/)
})

t.test('no traffic at all is quiet too', async (t) => {
  t.match(await pickInstant(feed([s(0, 7)], 10)), { kind: 'quiet' })
})

t.test('sessions opening all the time: busy at the deadline, said so', async (t) => {
  let now = 0
  let opened = 0
  const i = await pickInstant({ now: () => now, sample: async () => ((now += 10), s(2, opened++)), maxWaitMs: 500 })
  t.match(i, { kind: 'busy' })
  t.ok(i.waitedMs >= 500, `the deadline fired (${i.waitedMs} ms)`)
  t.match(describeInstant(i), /switched anyway \(2 open were cut\)/)
})

t.test('HAProxy does not answer: unknown, at once', async (t) => {
  const i = await pickInstant(feed([new Error('HAProxy socket /x: ECONNREFUSED')]))
  t.match(i, { kind: 'unknown', samples: 0, error: /ECONNREFUSED/ })
  t.match(describeInstant(i), /could not be read .*switched at once/)
})

t.test('a client at a steady pace: an idle instant only with room before its next connection', async (t) => {
  // a connection every 20 ms lasting `busy` ms, sampled every ms
  const client = (busy: (n: number) => number) => {
    let now = 0
    return {
      now: () => now,
      sample: async () => {
        now += 1
        const n = Math.floor(now / 20)
        return s(now % 20 < busy(n) ? 1 : 0, n + 1)
      },
    }
  }
  const short = client(() => 5)
  const a = await pickInstant(short)
  t.match(a, { kind: 'idle' })
  t.ok(a.waitedMs >= 60, `after the pace showed (four connections: ${a.waitedMs} ms)`)
  t.equal(short.now() % 20, 5, 'right after a session ended: 15 ms before the next')
  // sessions of 12 ms leave 8 ms: not taken, except the one that happened to be short
  const long = client((n) => (n === 12 ? 3 : 12))
  const b = await pickInstant(long)
  t.match(b, { kind: 'idle' })
  t.equal(Math.floor(long.now() / 20), 12, 'the short one')
  // none ever leaves room: the first edge once the wait is nearly over
  const never = client(() => 15)
  const c = await pickInstant(never)
  t.match(c, { kind: 'idle' })
  t.ok(c.waitedMs >= 400 && c.waitedMs < 500, `late in the wait (${c.waitedMs} ms)`)
})
