// `ha-agent notify` as keepalived runs it: durable, fast, no network.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../fixtures/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-notify-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const config = join(dir, 'config.yaml')
// The webhook points at a port nothing listens on: notify must not care.
writeFileSync(config, `node: haproxy1\nstate_dir: ${dir}/state\nwebhooks:\n  - { name: ops, url: "http://127.0.0.1:9/hook" }\n`)

function queued() {
  const q = join(dir, 'state', 'queue', 'ops')
  return readdirSync(q).filter((n) => n.endsWith('.json')).sort().map((n) => JSON.parse(readFileSync(join(q, n), 'utf8')))
}

t.test('records transitions with previous_state, silently, exit 0', async (t) => {
  const a = await runCli(['notify', 'INSTANCE', 'VI_1', 'BACKUP', '249', '--config', config])
  t.equal(a.code, 0, a.stderr)
  t.equal(a.stdout + a.stderr, '')
  const b = await runCli(['notify', 'INSTANCE', 'VI_1', 'MASTER', '249', '--config', config])
  t.equal(b.code, 0)
  const events = queued()
  t.equal(events.length, 2)
  t.match(events[0], { type: 'vrrp.transition', data: { node: 'haproxy1', instance: 'VI_1', kind: 'INSTANCE', state: 'BACKUP', previous_state: null, priority: 249, source: 'notify' } })
  t.match(events[1], { data: { state: 'MASTER', previous_state: 'BACKUP' } })
})

t.test('concurrent notifies (keepalived fires them in parallel) all land, in time order', async (t) => {
  const before = queued().length
  const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => runCli(['notify', 'GROUP', `G${i}`, 'FAULT', '--config', config])))
  t.ok(runs.every((r) => r.code === 0))
  const events = queued().slice(before)
  t.equal(events.length, 8)
  const ids = events.map((e) => e.id)
  t.same([...ids].sort(), ids)
})

t.test('bad arguments exit 2 naming them, before anything is recorded', async (t) => {
  const before = queued().length
  const bad = await runCli(['notify', 'INSTANCE', 'VI_1', 'SLEEPY', '--config', config])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /SLEEPY/)
  for (const p of ['', '0x10', '1e2']) {
    const r = await runCli(['notify', 'INSTANCE', 'VI_1', 'MASTER', p, '--config', config])
    t.equal(r.code, 2, `PRIORITY ${JSON.stringify(p)}`)
  }
  t.equal(queued().length, before)
})

t.test('recording needs no secret and ignores problems elsewhere in the file', async (t) => {
  // A secret the script user cannot read (or one only the daemon's environment
  // has), an invalid check section: the daemon would refuse this file, but the
  // transition is what keepalived just did, and it must not be lost.
  const state = join(dir, 'lenient-state')
  const lenient = join(dir, 'lenient.yaml')
  writeFileSync(
    lenient,
    `node: n1\nstate_dir: ${state}\nruntime_dir: ${join(dir, 'lenient-run')}\nchecks: { interval_ms: -1 }\n` +
      `webhooks:\n  - { name: ops, url: "http://127.0.0.1:9/hook", secret_file: /nonexistent/ops.secret }\n`,
  )
  const r = await runCli(['notify', 'INSTANCE', 'VI_9', 'MASTER', '100', '--config', lenient])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  const q = join(state, 'queue', 'ops')
  t.match(readdirSync(q).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(readFileSync(join(q, n), 'utf8'))), [{ data: { instance: 'VI_9', state: 'MASTER' } }])
  t.equal((await runCli(['config', 'check', '--config', lenient])).code, 78, 'the daemon would refuse it')
})

t.test('a config that cannot be read at all: exit 78, and the transition waits in the spool', async (t) => {
  const run = join(dir, 'broken-run')
  const broken = join(dir, 'broken.yaml')
  writeFileSync(broken, `runtime_dir: ${run}\nwebhooks: [unclosed\n`)
  const r = await runCli(['notify', 'master', 'VI_1', '--config', broken])
  t.equal(r.code, 78)
  t.match(r.stderr, new RegExp(`ha-agent notify: cannot read ${broken}; the transition is kept in ${run}/spool/msg_[0-9a-f]+\\.json until the daemon runs with a valid config`))
  t.match(r.stderr, /^config: .*YAML syntax error/m)
  const spooled = readdirSync(join(run, 'spool'))
  t.equal(spooled.length, 1)
  t.match(JSON.parse(readFileSync(join(run, 'spool', spooled[0]!), 'utf8')), { type: 'vrrp.transition', data: { instance: 'VI_1', state: 'MASTER' } })
})
