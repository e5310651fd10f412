// The notify command in-process: what it writes, what it prints, what it returns.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { notify } from '../../src/commands/notify.js'
import { buildConfig } from '../../src/config/index.js'
import { UsageError } from '../../src/errors/index.js'
import { startReceiver } from '../fixtures/receiver.js'

const configs = mkdtempSync(join(tmpdir(), 'ha-agent-notify-configs-'))
t.teardown(() => rmSync(configs, { recursive: true, force: true }))

function ctx(args: string[], stateDir: string, url: string, runtimeDir = join(stateDir, 'run')) {
  const out = { stdout: '', stderr: '' }
  const config = buildConfig({ node: 'n1', state_dir: stateDir, runtime_dir: runtimeDir, webhooks: [{ name: 'ops', url }] }, null, { env: {} })
  // A real file naming a runtime_dir of this test: the command looks for a daemon
  // there (none), never at the host's /run/ha-agent.
  const configPath = join(configs, `${stateDir.split('/').pop()}.yaml`)
  writeFileSync(configPath, `runtime_dir: ${runtimeDir}\n`)
  return {
    out,
    ctx: {
      args,
      configPath,
      env: {},
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      loadConfig: async () => config,
      loadRecordingConfig: async () => ({ node: 'n1', state_dir: stateDir, runtime_dir: runtimeDir, webhooks: config.webhooks, configPath: '/x' }),
    },
  }
}

const queued = (stateDir: string) =>
  readdirSync(join(stateDir, 'queue', 'ops'))
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(stateDir, 'queue', 'ops', n), 'utf8')))

t.test('records a vrrp.transition, prints nothing, never calls the webhook', async (t) => {
  const rx = await startReceiver(t)
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-notify-cmd-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const a = ctx(['INSTANCE', 'VI_1', 'BACKUP', '90'], stateDir, rx.url)
  t.equal(await notify(a.ctx), 0)
  const b = ctx(['master', 'VI_1'], stateDir, rx.url)
  t.equal(await notify(b.ctx), 0)
  t.same([a.out, b.out], [{ stdout: '', stderr: '' }, { stdout: '', stderr: '' }], 'silent on success')
  const events = queued(stateDir)
  t.match(events, [
    { type: 'vrrp.transition', id: /^msg_[0-9a-f]+$/, data: { node: 'n1', instance: 'VI_1', kind: 'INSTANCE', state: 'BACKUP', previous_state: null, priority: 90, source: 'notify' } },
    { data: { state: 'MASTER', previous_state: 'BACKUP', priority: null } },
  ])
  t.ok(Math.abs(Date.parse(events[0].timestamp) - Date.now()) < 60_000, 'timestamp is when the process started')
  await new Promise((r) => setTimeout(r, 100))
  t.equal(rx.all.length, 0, 'no request: delivery is the daemon\'s job')
})

t.test('bad arguments throw a UsageError before anything is written', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-notify-cmd-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  await t.rejects(notify(ctx(['INSTANCE', 'VI_1', 'ASLEEP'], stateDir, 'http://127.0.0.1:9/').ctx), UsageError)
  t.same(readdirSync(stateDir), [])
})

t.test('a state_dir that cannot take the event: it waits in the spool, exit 1 and one line on stderr saying so', async (t) => {
  // A file where the directory should be (ENOTDIR); a full disk: test/integration/notify-disk.test.ts.
  const base = mkdtempSync(join(tmpdir(), 'ha-agent-notify-cmd-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const stateDir = join(base, 'state')
  writeFileSync(stateDir, '')
  const runtimeDir = join(base, 'run')
  const c = ctx(['fault'], stateDir, 'http://127.0.0.1:9/', runtimeDir)
  t.equal(await notify(c.ctx), 1)
  t.match(c.out.stderr, /^ha-agent notify: outbox: cannot store vrrp\.transition event at .*\(ENOTDIR\); kept in .*\/run\/spool\/msg_[0-9a-f]+\.json until the daemon can move it \(lost at reboot\)\n$/)
  t.equal(c.out.stdout, '')
  const spooled = readdirSync(join(runtimeDir, 'spool'))
  t.equal(spooled.length, 1)
  t.match(JSON.parse(readFileSync(join(runtimeDir, 'spool', spooled[0]!), 'utf8')), { type: 'vrrp.transition', data: { state: 'FAULT', node: 'n1' } })
})

t.test('a 300-character instance name is recorded once, exit 0', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-notify-cmd-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const name = 'VI_' + 'x'.repeat(297)
  const c = ctx(['INSTANCE', name, 'MASTER', '200'], stateDir, 'http://127.0.0.1:9/')
  t.equal(await notify(c.ctx), 0, c.out.stderr)
  t.equal(c.out.stderr, '')
  t.match(queued(stateDir), [{ data: { instance: name, state: 'MASTER', priority: 200 } }])
  const again = ctx(['INSTANCE', name, 'BACKUP', '200'], stateDir, 'http://127.0.0.1:9/')
  t.equal(await notify(again.ctx), 0)
  t.match(queued(stateDir)[1], { data: { state: 'BACKUP', previous_state: 'MASTER' } }, 'its state file was written and read back')
})
