import t from 'tap'
import { CheckDebouncer } from '../../src/daemon/debounce.js'

const r = (status: 'pass' | 'fail') => ({ name: 'postgres' as const, status, latencyMs: 1, detail: '', checkedAt: '' })

t.test('fall consecutive failures report check.failed once; rise passes report check.recovered once', async (t) => {
  const d = new CheckDebouncer(2, 3)
  const seq = ['pass', 'fail', 'pass', 'fail', 'fail', 'fail', 'pass', 'pass', 'fail', 'pass', 'pass', 'pass', 'pass'] as const
  t.same(seq.map((s) => d.feed(r(s)).join()), ['', '', '', '', 'check.failed', '', '', '', '', '', '', 'check.recovered', ''])
})

t.test('a check that never passes reports a failure; one that never fails reports nothing', async (t) => {
  const d = new CheckDebouncer(1, 1)
  t.same(d.feed(r('fail')), ['check.failed'])
  const e = new CheckDebouncer(1, 1)
  t.same([e.feed(r('pass')), e.feed(r('pass'))], [[], []])
})

t.test('status(): what is established, undefined until it is (the alertmanager sink resolves only on its word)', async (t) => {
  const d = new CheckDebouncer(2, 3)
  t.equal(d.status('postgres'), undefined, 'nothing seen')
  d.feed(r('fail'))
  t.equal(d.status('postgres'), undefined, 'one failure is not yet a failing check')
  d.feed(r('fail'))
  t.equal(d.status('postgres'), 'fail')
  d.feed(r('pass'))
  d.feed(r('pass'))
  t.equal(d.status('postgres'), 'fail', 'still failing until rise passes')
  d.feed(r('pass'))
  t.equal(d.status('postgres'), 'pass')

  const fresh = new CheckDebouncer(2, 3)
  fresh.feed(r('pass'))
  fresh.feed(r('pass'))
  t.equal(fresh.status('postgres'), undefined, 'a restarted daemon: a passing check is established after rise passes, not at once')
  fresh.feed(r('pass'))
  t.equal(fresh.status('postgres'), 'pass')
  fresh.feed(r('fail'))
  t.equal(fresh.status('postgres'), 'pass', 'one failure does not change it')
})
