import t from 'tap'
import { DOCTOR_EXIT, error, exitCodeFor, formatFindings, ok, summarize, warning } from '../../src/doctor/finding.js'

const e = error('a.b', '/etc/keepalived/keepalived.conf:42', 'it is wrong', 'do this')
const w = warning('c', 'socket /x', 'it is odd', 'maybe that')
const o = ok('d', 'daemon', 'it is fine')

t.test('exit codes: 0 nothing, 1 a warning, 2 an error', async (t) => {
  t.equal(exitCodeFor([o]), DOCTOR_EXIT.CLEAN)
  t.equal(exitCodeFor([o, w]), DOCTOR_EXIT.WARNING)
  t.equal(exitCodeFor([w, e, o]), DOCTOR_EXIT.ERROR)
  t.same(summarize([e, w, o, o]), { errors: 1, warnings: 1, ok: 2 })
})

t.test('one line per finding, the fix after a dash, then the summary', async (t) => {
  t.equal(
    formatFindings([e, w, o]),
    'error    /etc/keepalived/keepalived.conf:42: it is wrong — fix: do this\nwarning  socket /x: it is odd — fix: maybe that\nok       daemon: it is fine\ndoctor: 1 error, 1 warning, 1 ok: errors found\n',
  )
  t.equal(formatFindings([o]).split('\n').at(-2), 'doctor: 0 errors, 0 warnings, 1 ok: no problem found')
})
