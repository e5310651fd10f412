// `ha-agent doctor` in the two-node host lab, on node 1 (inside its network
// namespace, against its rendered files): clean as the lab renders the shipped
// configs, then one test per mistake, each rendered into a copy (or, for the
// daemon's own config, put in place and the daemon restarted), named by doctor
// with its severity and the exit code (0 none, 1 a warning, 2 an error).
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { chownSync, chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { CLI, cleanEnvArgv } from '../fixtures/cli.js'
import { startLab } from '../fixtures/lab.js'
import { waitFor } from '../fixtures/procs.js'

const run = promisify(execFile)
const lab = await startLab(t)
await lab.waitForHolder('1', 30_000)
const n1 = `${lab.dir}/n1`
const files = { config: `${n1}/config.yaml`, ka: `${n1}/keepalived.conf`, ha: `${n1}/haproxy.cfg` }
const mistakes = `${n1}/mistakes`
mkdirSync(mistakes, { recursive: true })

interface Result {
  code: number
  out: string
  /** the lines that are not ok */
  problems: string[]
}

/** doctor on node 1, as root in its network namespace; a file may be replaced by a copy. */
async function doctor(over: Partial<typeof files> = {}): Promise<Result> {
  const f = { ...files, ...over }
  const argv = [process.execPath, CLI, '--config', f.config, 'doctor', '--keepalived-conf', f.ka, '--haproxy-cfg', f.ha]
  let code = 0
  let out: string
  try {
    out = (await run('ip', ['netns', 'exec', `${lab.prefix}-n1`, 'env', ...cleanEnvArgv(argv)], { maxBuffer: 1 << 22 })).stdout
  } catch (err) {
    const e = err as { code: number; stdout: string }
    code = e.code
    out = e.stdout
  }
  return { code, out, problems: out.split('\n').filter((l) => /^(error|warning) /.test(l)) }
}

/** A copy of one of node 1's files with a change; its path. */
function mistake(name: string, from: string, change: (text: string) => string): string {
  const path = `${mistakes}/${name}`
  const before = readFileSync(from, 'utf8')
  const after = change(before)
  if (after === before) throw new Error(`${name}: the change matched nothing`)
  writeFileSync(path, after)
  return path
}

const ready = () =>
  waitFor('node 1 daemon ready with its peer polled', async () => {
    const out = await lab.exec(1, [`${n1}/ha-agent`, 'status', '--json']).catch(() => '')
    const s = out ? JSON.parse(out) : undefined
    return s?.ready && s.peers.every((p: { error?: string }) => p.error !== 'not polled yet') ? s : undefined
  }, 20_000, 200)

/** Node 1's daemon restarted on its config with a change, then `during`, then the config as it was. */
async function withDaemonConfig(change: (text: string) => string, during: () => Promise<void>): Promise<void> {
  copyFileSync(files.config, `${mistakes}/config.good`)
  writeFileSync(files.config, change(readFileSync(files.config, 'utf8')))
  try {
    await lab.sh('stop-agent', '1')
    await lab.sh('start-agent', '1')
    await during()
  } finally {
    copyFileSync(`${mistakes}/config.good`, files.config)
    await lab.sh('stop-agent', '1')
    await lab.sh('start-agent', '1')
    await ready()
  }
}

t.test('node 1 as the lab renders the shipped configs: clean, exit 0', async (t) => {
  await ready()
  const r = await doctor()
  t.equal(r.code, 0, 'exit 0', { out: r.out })
  t.same(r.problems, [])
  t.match(r.out, /^doctor: 0 errors, 0 warnings, \d+ ok: no problem found$/m)
})

t.test('the track_file path differs between keepalived.conf and the agent: an error', async (t) => {
  const r = await doctor({ ka: mistake('track-path.conf', files.ka, (s) => s.replace(`file "${n1}/run/fault"`, 'file "/run/elsewhere/fault"')) })
  t.equal(r.code, 2)
  t.match(r.problems, [/^error +\S+track-path\.conf:\d+: track_file ha_agent_fault watches \/run\/elsewhere\/fault, but the agent writes \S+\/run\/fault \(keepalived\.track_file\)/, /^error +daemon track_file: the daemon writes \S+\/run\/fault, but keepalived\.conf tracks \/run\/elsewhere\/fault/])
})

t.test('the track_file weight is not 0: an error naming the master-down wait', async (t) => {
  const r = await doctor({ ka: mistake('weight.conf', files.ka, (s) => s.replace('ha_agent_fault weight 0', 'ha_agent_fault weight -50')) })
  t.equal(r.code, 2)
  t.match(r.problems, [/^error +\S+weight\.conf:\d+: ha_agent_fault has weight -50: a fault lowers the priority by 50 instead of FAULT: the peer then waits the master-down interval \(303 ms\) instead of its skew time \(2\.7 ms\)/])
})

t.test("the vrrp_script's timeout is not above --timeout + 200 ms: an error", async (t) => {
  const r = await doctor({ ka: mistake('timeout.conf', files.ka, (s) => s.replace(/^(\s+)timeout 2$/m, '$1timeout 1')) })
  t.equal(r.code, 2)
  t.match(r.problems, [/^error +\S+timeout\.conf:\d+: vrrp_script chk_ha_agent: timeout 1 s, but `ha-agent check` may take \d+ ms \(--timeout\) \+ 200 ms/])
})

t.test('no enable_script_security: a warning, exit 1', async (t) => {
  const r = await doctor({ ka: mistake('security.conf', files.ka, (s) => s.replace(/^\s*enable_script_security$/m, '')) })
  t.equal(r.code, 1, 'exit 1', { out: r.out })
  t.match(r.problems, [/^warning +\S+security\.conf:\d+: no enable_script_security/])
  t.equal(r.problems.length, 1)
})

t.test('no notify: an error (transitions are not reported)', async (t) => {
  const r = await doctor({ ka: mistake('notify.conf', files.ka, (s) => s.replace(/^\s*notify ".*"$/m, '')) })
  t.equal(r.code, 2)
  t.match(r.problems, [/^error +\S+notify\.conf:\d+: vrrp_instance VI_1: no notify calls `ha-agent notify` and no notify FIFO goes to the daemon: transitions are not reported/])
})

t.test('the priority of the peer and a slow advert: warnings with the skew, exit 1', async (t) => {
  const r = await doctor({ ka: mistake('timing.conf', files.ka, (s) => s.replace(/^(\s+)priority 250$/m, '$1priority 249').replace(/^(\s+)advert_int 0\.1$/m, '$1advert_int 1')) })
  t.equal(r.code, 1, 'exit 1', { out: r.out })
  t.match(r.problems, [/^warning +\S+timing\.conf:\d+: VI_1 has priority 249 here and on the peer/, /^warning +\S+timing\.conf:\d+: VI_1: advert_int 1 s, backup priority 249: hand-over after a FAULT 27\.3 ms, a vanished node replaced after 3027 ms; the README promises/])
})

t.test("HAProxy's socket at level admin: a warning; in a group the agent is not in: an error", async (t) => {
  const admin = await doctor({ ha: mistake('admin.cfg', files.ha, (s) => s.replace('level user group ha-agent', 'level admin group ha-agent')) })
  t.equal(admin.code, 1, 'exit 1', { out: admin.out })
  t.match(admin.problems, [/^warning +\S+admin\.cfg:14: stats socket \S+haproxy-agent\.sock is at level admin: more than the agent needs/])
  const group = await doctor({ ha: mistake('group.cfg', files.ha, (s) => s.replace('level user group ha-agent', 'level user group haproxy')) })
  t.equal(group.code, 2)
  t.match(group.problems, [/^error +\S+group\.cfg:14: stats socket \S+ is for group haproxy, mode 660: ha-agent \(gids \d+\) cannot connect once HAProxy starts with this file/])
})

t.test('a backend the checks name is missing from haproxy.cfg: an error', async (t) => {
  const r = await doctor({ ha: mistake('backend.cfg', files.ha, (s) => s.replace(/^backend pgbouncers$/m, 'backend pgbouncer_pool').replace('default_backend pgbouncers', 'default_backend pgbouncer_pool')) })
  t.equal(r.code, 2)
  t.match(r.problems, [/^error +\S+backend\.cfg: no backend pgbouncers in haproxy\.cfg \(checks\.haproxy\.backends\[0\] in \S+; the file has pgbouncer_pool, stats\)/])
})

t.test('a webhook that refuses, and one that never answers: errors saying why, no URL path printed', async (t) => {
  // in the client's namespace: a port that accepts and never answers
  const hang = spawn('ip', ['netns', 'exec', `${lab.prefix}-cl`, 'env', ...cleanEnvArgv([process.execPath, '-e', `require('net').createServer((c) => c.on('error', () => {})).listen(8099, '${lab.net}.50')`])], { stdio: 'ignore' })
  t.teardown(() => hang.kill())
  await waitFor('the silent receiver', async () => ((await lab.exec('cl', ['ss', '-ltn'])).includes(':8099') ? true : undefined))
  const config = mistake('webhooks.yaml', files.config, (s) =>
    s.replace(/^webhooks:\n  - name: ops\n    url: .*$/m, `webhooks:\n  - { name: refuses, url: "http://${lab.net}.50:9/hook/s3cret" }\n  - { name: hangs, url: "http://${lab.net}.50:8099/hook/s3cret", timeout_ms: 500 }`),
  )
  const r = await doctor({ config })
  t.equal(r.code, 2)
  t.match(r.problems, [/^warning +control socket .*the daemon runs \S+config\.yaml, not \S+webhooks\.yaml/, new RegExp(`^error +webhook refuses \\(http://${lab.net.replaceAll('.', '\\.')}\\.50:9/…\\): HEAD got no answer: connection refused`), /^error +webhook hangs \(\S+:8099\/…\): HEAD got no answer: no answer within its timeout_ms \(500 ms\)/])
  t.notMatch(r.out, /s3cret/)
})

t.test('the daemon not running: an error, exit 2', async (t) => {
  await lab.sh('stop-agent', '1')
  try {
    const r = await doctor()
    t.equal(r.code, 2)
    t.match(r.problems, [/^error +control socket \S+agent\.sock: the daemon is not running/])
    t.match(r.out, /^ok +keepalived: keepalived's VRRP process runs/m, 'and keepalived is still seen')
  } finally {
    await lab.sh('start-agent', '1')
    await ready()
  }
})

t.test('the peer answers with a different token: an error', async (t) => {
  const other = `${mistakes}/other.token`
  writeFileSync(other, 'f00dfeedf00dfeedf00dfeedf00dfeed\n')
  chownSync(other, 0, Number((await run('id', ['-g', 'ha-agent'])).stdout))
  chmodSync(other, 0o640)
  await withDaemonConfig(
    (s) => s.replace(/token_file: .*/, `token_file: ${other}`),
    async () => {
      await waitFor('the 401 from the peer', async () => ((await doctor()).problems.some((l) => l.includes('different token')) ? true : undefined), 20_000, 500)
      const r = await doctor()
      t.equal(r.code, 2)
      t.match(r.problems, [new RegExp(`^error +peer https://${lab.net.replaceAll('.', '\\.')}\\.12:9471: the peer refuses this node's token \\(HTTP 401 .*\\): it answers with a different token`)])
    },
  )
})

t.test("the daemon does not see keepalived (its pid_file names nothing while keepalived runs): an error", async (t) => {
  await withDaemonConfig(
    (s) => s.replace(/^  pid_file: .*$/m, `  pid_file: ${n1}/nothing.pid`),
    async () => {
      await ready()
      const r = await doctor()
      t.equal(r.code, 2)
      t.match(r.problems, [new RegExp(`^error +daemon keepalived: the daemon watches \\S+/nothing\\.pid \\(keepalived\\.pid_file\\), so it says keepalived is not running \\(no pid file \\S+\\), but keepalived writes its VRRP pid to \\S+/vrrp\\.pid: keepalived's VRRP process runs`)])
    },
  )
})

t.test('and clean again once every mistake is undone', async (t) => {
  await ready()
  const r = await doctor()
  t.equal(r.code, 0, 'exit 0', { out: r.out })
})
