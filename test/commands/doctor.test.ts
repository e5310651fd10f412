// `ha-agent doctor` as an operator runs it: the built CLI in a fresh process,
// against files in a temp dir (no daemon, no HAProxy: those are findings).
import t from 'tap'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../fixtures/cli.js'
import { shippedKeepalived, shippedLineOf } from '../fixtures/doctor.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-doctor-cli-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
chmodSync(dir, 0o755)
const write = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const config = write('config.yaml', `node: ha1\nruntime_dir: ${dir}/run\nstate_dir: ${dir}/state\nchecks:\n  timeout_ms: 800\n  haproxy: { socket: ${dir}/ha.sock, backends: [{ name: pgbouncers }] }\nkeepalived: { track_file: ${dir}/run/fault, pid_file: ${dir}/vrrp.pid }\n`)
const ka = write('keepalived.conf', shippedKeepalived().replaceAll('/run/ha-agent/fault', `${dir}/run/fault`))
const ha = write('haproxy.cfg', readFileSync(fileURLToPath(new URL('../../haproxy/haproxy.cfg', import.meta.url)), 'utf8').replaceAll('/run/haproxy/ha-agent.sock', `${dir}/ha.sock`))
const args = ['--config', config, 'doctor', '--keepalived-conf', ka, '--haproxy-cfg', ha]

t.test('a usage error: exit 2, the usage on stderr, no finding on stdout', async (t) => {
  for (const bad of [['--bogus'], ['extra'], ['--keepalived-conf']]) {
    const r = await runCli([...args, ...bad])
    t.equal(r.code, 2, bad.join(' '))
    t.equal(r.stdout, '', 'no finding')
    t.match(r.stderr, /usage: ha-agent \[--config PATH\] doctor \[--keepalived-conf PATH\] \[--haproxy-cfg PATH\] \[--json\] \[--skip-webhooks\]/)
  }
})

t.test('an invalid config: 78 with the key path, as config check says it', async (t) => {
  const bad = write('bad.yaml', 'checks: { timeout_ms: soon }\n')
  const r = await runCli(['--config', bad, 'doctor'])
  t.equal(r.code, 78)
  t.match(r.stderr, /^checks\.timeout_ms: /m)
  t.equal(r.stdout, '')
})

t.test('no daemon and no HAProxy: errors named, exit 2; --json carries the same findings', async (t) => {
  const r = await runCli(args)
  t.equal(r.code, 2, r.stderr)
  t.match(r.stdout, /^error    control socket \S+\/run\/agent\.sock: the daemon is not running/m)
  t.match(r.stdout, /^error    socket \S+\/ha\.sock: no such socket: HAProxy is not running/m)
  t.match(r.stdout, new RegExp(`^ok       \\S+keepalived\\.conf:${shippedLineOf('ha_agent_fault weight 0')}: vrrp_instance VI_1 tracks \\S+/run/fault with weight 0`, 'm'))
  t.match(r.stdout, /^doctor: \d+ errors?, \d+ warnings?, \d+ ok: errors found$/m)
  const j = await runCli([...args, '--json', '--skip-webhooks'])
  t.equal(j.code, 2)
  const out = JSON.parse(j.stdout)
  t.equal(out.summary.exit_code, 2)
  t.ok(out.findings.some((f: { severity: string; check: string }) => f.severity === 'error' && f.check === 'daemon.running'))
  t.ok(out.findings.every((f: Record<string, unknown>) => ['severity', 'check', 'where', 'problem', 'fix'].every((k) => typeof f[k] === 'string')))
})
