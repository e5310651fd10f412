// The verdict file the launcher answers `check` from: rewritten when the outcome
// changes (or its figures are REWRITE_MS old), otherwise only its expiry moves.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { DaemonState } from '../../src/daemon/state.js'
import { REWRITE_MS, VerdictPublisher } from '../../src/daemon/verdict-publisher.js'
import { freshFor } from '../../src/daemon/verdict.js'
import { silentLogger } from '../../src/log/index.js'
import type { Verdict } from '../../src/checks/types.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-publisher-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const config = buildConfig({ runtime_dir: dir, state_dir: join(dir, 'state'), checks: { interval_ms: 1000, system: {} } }, join(dir, 'config.yaml'), { env: {} })
const file = join(dir, 'verdict')

const round = (status: 'pass' | 'fail', latencyMs: number, at: number): Verdict => ({
  healthy: status === 'pass',
  checks: [{ name: 'system', status, latencyMs, detail: status === 'pass' ? 'interface up' : 'interface down', checkedAt: new Date(at).toISOString() }],
  checkedAt: new Date(at).toISOString(),
  source: 'daemon',
})

t.test('same outcome: the expiry moves, the file stays; a new outcome or old figures rewrite it', async (t) => {
  const state = new DaemonState()
  const p = new VerdictPublisher(silentLogger)
  let now = Date.now()
  const feed = (status: 'pass' | 'fail', latency: number) => {
    state.latest = round(status, latency, now)
    state.latestAt = now
    p.publish(config, state, now)
  }
  feed('pass', 1.1)
  const first = statSync(file)
  t.equal(Math.round(first.mtimeMs), now + freshFor(config), 'mtime is the expiry')
  t.match(readFileSync(file, 'utf8'), /^exit 0$/m)

  now += 1000
  feed('pass', 7.7) // only the latency differs
  const second = statSync(file)
  t.equal(second.ino, first.ino, 'the same file (no rename)')
  t.equal(Math.round(second.mtimeMs), now + freshFor(config), 'its expiry moved with the round')
  t.notMatch(readFileSync(file, 'utf8'), /7\.7/, 'the content is the first round\'s')

  now += 1000
  feed('fail', 2.2)
  const third = statSync(file)
  t.not(third.ino, first.ino, 'a new outcome is a new file')
  t.match(readFileSync(file, 'utf8'), /^exit 1$/m)

  now += REWRITE_MS + 1
  feed('fail', 3.3)
  t.not(statSync(file).ino, third.ino, 'figures older than REWRITE_MS are rewritten')
  t.match(readFileSync(file, 'utf8'), /"latencyMs":3\.3/)
})

t.test('a file removed under it is written again in full', async (t) => {
  const state = new DaemonState()
  const p = new VerdictPublisher(silentLogger)
  const now = Date.now()
  state.latest = round('pass', 1, now)
  state.latestAt = now
  p.publish(config, state, now)
  rmSync(file)
  state.latestAt = now + 1000
  p.publish(config, state, now + 1000) // the extend fails (ENOENT): remembered
  state.latestAt = now + 2000
  p.publish(config, state, now + 2000)
  t.equal(Math.round(statSync(file).mtimeMs), now + 2000 + freshFor(config), `expiry ${Math.round(statSync(file).mtimeMs) - now}`)
  t.match(readFileSync(file, 'utf8'), /^exit 0$/m)
})
