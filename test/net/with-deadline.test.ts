// withDeadline: one settling, by the deadline at the latest, and the request let
// go of whichever way it ends (exchange.test.ts and http/client.test.ts run it
// against real sockets).
import t from 'tap'
import { withDeadline, type Deadline } from '../../src/net/with-deadline.js'

const deadline = (timeoutMs: number, signal?: AbortSignal): Deadline => ({
  timeoutMs,
  signal,
  timedOut: () => new Error(`no answer within ${timeoutMs} ms`),
  aborted: () => new Error('aborted'),
})

t.test('the answer wins; the request is released with null, the timer does not hold the process', async (t) => {
  const released: Array<Error | null> = []
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const before = timers()
  const v = await withDeadline<string>(deadline(60_000), (finish) => {
    setImmediate(() => finish(null, 'answer'))
    return (err) => released.push(err)
  })
  t.equal(v, 'answer')
  t.same(released, [null])
  t.equal(timers(), before, 'the 60 s timer was cleared')
})

t.test('the deadline wins over a request that never finishes; later finishes are ignored', async (t) => {
  const released: Array<Error | null> = []
  let finishLater: ((err: Error | null, v?: string) => void) | undefined
  const err = await withDeadline<string>(deadline(50), (finish) => {
    finishLater = finish
    return (e) => released.push(e)
  }).catch((e: Error) => e)
  t.match(err, { message: 'no answer within 50 ms' })
  t.same(released.map((e) => e?.message), ['no answer within 50 ms'], 'released once, with the reason')
  finishLater!(null, 'too late')
  finishLater!(new Error('also too late'))
  t.equal(released.length, 1)
})

t.test('an abort wins, and removes its listener either way', async (t) => {
  const ac = new AbortController()
  const released: Array<Error | null> = []
  const pending = withDeadline<string>(deadline(60_000, ac.signal), () => (e) => released.push(e)).catch((e: Error) => e)
  ac.abort()
  t.match(await pending, { message: 'aborted' })
  t.same(released.map((e) => e?.message), ['aborted'])
  // a settled request no longer listens: many requests on one long-lived signal do not pile up listeners
  const shared = new AbortController()
  let listening = 0
  const add = shared.signal.addEventListener.bind(shared.signal)
  const remove = shared.signal.removeEventListener.bind(shared.signal)
  shared.signal.addEventListener = ((...a: Parameters<typeof add>) => (listening++, add(...a))) as typeof add
  shared.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (listening--, remove(...a))) as typeof remove
  for (let i = 0; i < 3; i++) await withDeadline<number>(deadline(1000, shared.signal), (finish) => (finish(null, i), () => {}))
  t.equal(listening, 0)
})

t.test('a signal aborted before the start: rejected, and nothing is started', async (t) => {
  let started = false
  const err = await withDeadline(deadline(1000, AbortSignal.abort()), () => {
    started = true
    return () => {}
  }).catch((e: Error) => e)
  t.match(err, { message: 'aborted' })
  t.equal(started, false)
})

t.test('finished while starting (an error at once): released as soon as the release exists', async (t) => {
  const released: Array<Error | null> = []
  const err = await withDeadline(deadline(1000), (finish) => {
    finish(new Error('EBADF'))
    return (e) => released.push(e)
  }).catch((e: Error) => e)
  t.match(err, { message: 'EBADF' })
  t.same(released.map((e) => e?.message), ['EBADF'])
})
