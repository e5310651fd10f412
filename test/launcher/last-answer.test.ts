// What check answers without evidence: the rule for what counts as evidence, and
// the newest earlier answer that had some.
import t from 'tap'
import { mkdtempSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isEvidence, lastAnswer, LAST_ANSWER_MAX_AGE_MS, recordAnswer } from '../../src/launcher/last-answer.js'
import { writeVerdictFile } from '../../src/launcher/verdict-file.js'
import type { CheckResult, Verdict } from '../../src/checks/types.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-last-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const result = (status: 'pass' | 'fail', latencyMs: number): CheckResult => ({ name: 'pgbouncer', status, latencyMs, detail: status, checkedAt: new Date().toISOString() })
const verdictOf = (...checks: CheckResult[]): Verdict => ({ healthy: checks.every((c) => c.status === 'pass'), checks, checkedAt: new Date().toISOString(), source: 'local' })

t.test('what counts as evidence', async (t) => {
  t.ok(isEvidence(verdictOf(result('pass', 20)), { givenMs: 500, startMs: 900 }), 'a pass, however slow the start')
  t.ok(isEvidence(verdictOf(result('fail', 3)), { givenMs: 20, startMs: 900 }), 'a failure long before its deadline (refused, 0/3 UP)')
  t.ok(isEvidence(verdictOf(result('fail', 480)), { givenMs: 500, startMs: 150 }), 'at its deadline, with a normal start: the target did not answer')
  t.notOk(isEvidence(verdictOf(result('fail', 480)), { givenMs: 500, startMs: 700 }), 'at its deadline after a starved start')
  t.notOk(isEvidence(verdictOf(result('fail', 40)), { givenMs: 40, startMs: 150 }), 'at its deadline with no real time to probe')
})

t.test('the newest answer for this config, not too old; else healthy', async (t) => {
  const config = '/etc/ha-agent/config.yaml'
  const run = join(dir, 'run')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(run)
  t.match(lastAnswer(run, config), { exitCode: 0, from: 'none', verdict: { healthy: true } }, 'nothing known')

  const now = Date.now()
  writeVerdictFile(run, { exitCode: 0, configPath: config, verdict: verdictOf(result('pass', 2)), expiresAt: now - 20_000 })
  t.match(lastAnswer(run, config, undefined, now), { exitCode: 0, from: 'daemon', ageMs: 20_000 })
  recordAnswer(run, config, verdictOf(result('fail', 3)))
  t.match(lastAnswer(run, config), { exitCode: 1, from: 'check' }, "check's own answer is newer than the daemon's")
  t.match(lastAnswer(run, '/another/config.yaml'), { from: 'none' }, "another config's answers are not this one's")
  t.match(lastAnswer(run, config, ['pgbouncer']), { exitCode: 1, from: 'check' }, 'the same checks: the same answer')
  t.match(lastAnswer(run, config, ['haproxy']), { from: 'none' }, 'other checks: another question, not answered by it')

  const old = new Date(Date.now() - LAST_ANSWER_MAX_AGE_MS - 1000)
  utimesSync(join(run, 'check-last'), old, old)
  t.match(lastAnswer(run, config), { exitCode: 0, from: 'daemon' }, 'past the maximum age an answer is history')
  utimesSync(join(run, 'verdict'), old, old)
  t.match(lastAnswer(run, config), { from: 'none' })
})
