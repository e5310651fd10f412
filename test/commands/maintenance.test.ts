// `switchover` and `maintenance` in-process: their arguments, and what they say
// without a daemon (maintenance status reads state_dir itself; the others need it).
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli.js'
import { writeMaintenance, writeYield } from '../../src/keepalived/index.js'

async function run(argv: string[]) {
  const out = { stdout: '', stderr: '' }
  const code = await main(argv, { env: {}, stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } })
  return { code, ...out }
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-ops-cmd-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const stateDir = join(dir, 'state')
  const config = join(dir, 'config.yaml')
  writeFileSync(config, `node: ha1\nstate_dir: ${stateDir}\nruntime_dir: ${join(dir, 'run')}\n`)
  return { stateDir, config }
}

t.test('usage errors: exit 2, naming the argument', async (t) => {
  const { config } = setup(t)
  t.match(await run(['--config', config, 'maintenance']), { code: 2, stderr: /maintenance: say on, off or status/ })
  t.match(await run(['--config', config, 'maintenance', 'maybe']), { code: 2, stderr: /not "maybe"/ })
  t.match(await run(['--config', config, 'maintenance', 'off', '--reason', 'x']), { code: 2, stderr: /--reason goes with on/ })
  t.match(await run(['--config', config, 'maintenance', 'status', '--force']), { code: 2, stderr: /--force goes with on/ })
  t.match(await run(['--config', config, 'switchover', 'haproxy2']), { code: 2, stderr: /unexpected argument "haproxy2"/ })
  t.match(await run(['--config', config, 'switchover', '--timeout', '0']), { code: 2, stderr: /--timeout needs a number of seconds/ })
  t.match(await run(['--config', config, 'switchover', '--timeout', '500']), { code: 2, stderr: /at most 120/ })
  t.match(await run(['--config', config, 'switchover', '--bogus']), { code: 2, stderr: /switchover: Unknown option '--bogus'/ })
})

t.test('without a daemon: switchover and maintenance on/off say so (exit 1); status reads state_dir', async (t) => {
  const { config, stateDir } = setup(t)
  t.match(await run(['--config', config, 'switchover']), { code: 1, stderr: /switchover: the daemon is not running \(no control socket at .*agent\.sock\)/ })
  t.match(await run(['--config', config, 'maintenance', 'on']), { code: 1, stderr: /maintenance on: the daemon is not running/ })
  t.match(await run(['--config', config, 'maintenance', 'status']), { code: 0, stdout: /^ha1 is not in maintenance \(stored in .*; the daemon is not running\)\n$/ })
  writeMaintenance(stateDir, { on: true, since: '2026-01-02T03:04:05.000Z', reason: 'kernel update' })
  writeYield(stateDir, { yielding: true, since: null, reason: null })
  const r = await run(['--config', config, 'maintenance', 'status', '--json'])
  t.equal(r.code, 0)
  t.match(JSON.parse(r.stdout), { ok: true, maintenance: { on: true, since: '2026-01-02T03:04:05.000Z', reason: 'kernel update' }, yielding: true, daemon: false })
})
