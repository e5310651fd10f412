// `ha-agent check` keeping the track_file while no daemon does: HAProxy gone is
// 1, anything else 0, written only when the file says otherwise, and said on stderr.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { haproxyGone, keepTrackFileWithoutDaemon } from '../../src/checks/track-fallback.js'
import type { CheckResult, Verdict } from '../../src/checks/types.js'

const check = (name: CheckResult['name'], status: CheckResult['status'], data?: Record<string, unknown>): CheckResult => ({ name, status, latencyMs: 1, detail: 'd', checkedAt: '', ...(data ? { data } : {}) })
const verdict = (...checks: CheckResult[]): Verdict => ({ healthy: checks.every((c) => c.status === 'pass'), checks, checkedAt: '', source: 'local' })
const gone = verdict(check('haproxy', 'fail'))
const backendDown = verdict(check('haproxy', 'fail', { pid: 42 }), check('postgres', 'fail'))

t.test('haproxyGone: no answer from the runtime API at all; a backend down is an answer', async (t) => {
  t.equal(haproxyGone(gone), true)
  t.equal(haproxyGone(backendDown), false)
  t.equal(haproxyGone(verdict(check('haproxy', 'pass', { pid: 42 }))), false)
  t.equal(haproxyGone(verdict(check('postgres', 'fail'))), undefined, 'not checked: nothing to say')
})

t.test('written when it says otherwise, and said; left alone when it agrees', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-fallback-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'fault')
  let stderr = ''
  const out = { write: (s: string) => (stderr += s) }
  keepTrackFileWithoutDaemon(path, gone, out)
  t.equal(readFileSync(path, 'utf8'), '1\n')
  t.equal(stderr, `check: no daemon keeps ${path}: set to 1 (HAProxy gone)\n`)
  stderr = ''
  const mtime = statSync(path).mtimeMs
  keepTrackFileWithoutDaemon(path, gone, out)
  t.same([stderr, statSync(path).mtimeMs], ['', mtime], 'already 1: not rewritten, nothing said')
  keepTrackFileWithoutDaemon(path, backendDown, out)
  t.equal(readFileSync(path, 'utf8'), '0\n', 'a deep check failing is only a weight without a peer to compare')
  t.equal(stderr, `check: no daemon keeps ${path}: set to 0 (HAProxy answers)\n`)
  stderr = ''
  keepTrackFileWithoutDaemon(path, verdict(check('system', 'fail')), out)
  t.same([readFileSync(path, 'utf8'), stderr], ['0\n', ''], 'no HAProxy check: the file is left as it is')
})

t.test('a file that cannot be written: said on stderr, never thrown', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-fallback-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'run'), '') // a file where the directory should be
  let stderr = ''
  keepTrackFileWithoutDaemon(join(dir, 'run', 'fault'), gone, { write: (s: string) => (stderr += s) })
  t.match(stderr, /^check: cannot write .*\/run\/fault: /)
})

t.test('without a daemon, maintenance stored under state_dir holds the FAULT, and the yield file follows the stored yield', async (t) => {
  const { writeMaintenance, writeYield, MAINTENANCE_OFF } = await import('../../src/keepalived/index.js')
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-fallback-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'fault')
  const yieldFile = join(dir, 'yield')
  let stderr = ''
  const out = { write: (s: string) => (stderr += s) }
  const healthy = verdict(check('haproxy', 'pass', { pid: 42 }))
  writeMaintenance(dir, { on: true, since: 'x', reason: 'kernel' })
  writeYield(dir, { yielding: true, since: 'x', reason: 'switchover to ha2' })
  keepTrackFileWithoutDaemon(path, healthy, out, { stateDir: dir, yieldFile })
  t.equal(readFileSync(path, 'utf8'), '1\n', 'HAProxy answers, but the node is in maintenance')
  t.equal(readFileSync(yieldFile, 'utf8'), '1\n', 'after a reboot the yield file is back')
  t.match(stderr, /set to 1 \(in maintenance\)/)
  keepTrackFileWithoutDaemon(path, verdict(check('system', 'fail')), out, { stateDir: dir, yieldFile })
  t.equal(readFileSync(path, 'utf8'), '1\n', 'no HAProxy check: maintenance still says 1')
  writeMaintenance(dir, MAINTENANCE_OFF)
  keepTrackFileWithoutDaemon(path, healthy, out, { stateDir: dir, yieldFile: null })
  t.equal(readFileSync(path, 'utf8'), '0\n', 'out of maintenance: the HAProxy rule again')
})
