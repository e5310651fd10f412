import t from 'tap'
import { BACKSTOP_MARGIN_MS, measured } from '../../src/checks/deadline.js'

t.test('a finding becomes a pass/fail result with latency and time stamp', async (t) => {
  const pass = await measured('haproxy', 500, async () => ({ ok: true, detail: 'fine', data: { up: 3 } }))
  t.match(pass, { name: 'haproxy', status: 'pass', detail: 'fine', data: { up: 3 } })
  t.type(pass.latencyMs, 'number')
  t.ok(pass.latencyMs >= 0 && pass.latencyMs < 500)
  t.ok(Math.abs(Date.parse(pass.checkedAt) - Date.now()) < 5000, 'checkedAt is an ISO time of now')
  const fail = await measured('postgres', 500, async () => ({ ok: false, detail: 'no rows' }))
  t.match(fail, { name: 'postgres', status: 'fail', detail: 'no rows' })
  t.notOk('data' in fail, 'no empty data field')
})

t.test('a throwing probe is a failed result carrying the message, never a rejection', async (t) => {
  const r = await measured('pgbouncer', 500, async () => {
    throw new Error('boom at 127.0.0.1:6432')
  })
  t.match(r, { status: 'fail', detail: 'boom at 127.0.0.1:6432' })
  const weird = await measured('pgbouncer', 500, () => Promise.reject('a string'))
  t.match(weird, { status: 'fail', detail: 'a string' })
})

t.test('a probe that hangs is cut off at the deadline and told to let go', async (t) => {
  let aborted = false
  const started = performance.now()
  const r = await measured('system', 200, (signal) => {
    signal.addEventListener('abort', () => (aborted = true))
    return new Promise(() => {})
  })
  const took = performance.now() - started
  t.match(r, { status: 'fail', detail: 'no result within 200 ms' })
  // Not before the deadline (a timer never fires early); how much after depends on the machine's load.
  t.ok(took >= 200 + BACKSTOP_MARGIN_MS - 1, `cut off after ${took.toFixed(0)} ms`)
  t.equal(aborted, true, 'the probe saw its AbortSignal fire')
})
