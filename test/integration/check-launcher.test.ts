// The steady state keepalived sees, against the real stack: the daemon publishes
// its verdict, the sh launcher (dist/ha-agent) answers `check` from it without
// starting a process, and the daemon's own check rounds start none either.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startStack } from '../fixtures/stack.js'
import { runCli } from '../fixtures/cli.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'
import { waitFor } from '../fixtures/procs.js'

const LAUNCHER = fileURLToPath(new URL('../../dist/ha-agent', import.meta.url))
const hasStrace = spawnSync('strace', ['-V']).status === 0

const stack = await startStack(t)
const config = stack.writeAgentConfig('', 'agent.yaml', { checks: '  system: { interface: lo, vips: ["127.0.0.1"] }' })
writeFileSync(config, readFileSync(config, 'utf8').replace('log_level: warn', 'log_level: info').replace(/checks:\n  timeout_ms: 1000/, 'checks:\n  timeout_ms: 1000\n  interval_ms: 300'))
const verdictFile = join(stack.dir, 'run', 'verdict')

/** The launcher as keepalived runs it: a fresh process, a near-empty environment. */
function launcher(args: string[], opts: { strace?: string } = {}) {
  const argv = ['env', '-i', `PATH=${process.env.PATH}`, LAUNCHER, '--config', config, ...args]
  const cmd = opts.strace ? ['strace', '-f', '-qq', '-o', opts.strace, '-e', 'trace=execve,clone,clone3,fork,vfork', ...argv] : argv
  const started = performance.now()
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started }
}
const noLatency = (s: string) => s.replace(/ +\d+ms  /g, ' Nms  ')

// through the launcher: with the daemon's Node.js flags (--lite-mode: no WebAssembly), against the whole stack
const daemon = runDaemon(t, config, { launcher: true })
await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon start', 15_000)
await waitFor('a healthy published verdict', () => (existsSync(verdictFile) && launcher(['check']).code === 0) || undefined, 20_000, 100)

t.test('the daemon runs with the launcher\'s Node.js flags', async (t) => {
  const argv = readFileSync(`/proc/${daemon.child.pid}/cmdline`, 'utf8').split('\0')
  t.ok(argv.includes('--lite-mode'), argv.join(' '))
})

t.test('the verdict file: fresh for 2 intervals + a timeout, 0644, naming the absolute config', async (t) => {
  const st = statSync(verdictFile)
  const ahead = st.mtimeMs - Date.now()
  t.ok(ahead > 0 && ahead <= 2 * 300 + 1000, `expires ${ahead.toFixed(0)} ms from now`)
  t.equal(st.mode & 0o777, 0o644)
  t.match(readFileSync(verdictFile, 'utf8'), new RegExp(`^ha-agent-verdict 1\nexit 0\nconfig ${config}\nlines 5\n`))
})

t.test('the launcher answers what Node.js answers through the daemon, without starting a process', async (t) => {
  const fast = launcher(['check'])
  const slow = await runCli(['check', '--config', config])
  t.equal(fast.code, 0)
  t.equal(slow.code, 0)
  t.equal(noLatency(fast.stdout), noLatency(slow.stdout), 'the same lines (latencies aside: two rounds apart)')
  t.match(fast.stdout, /^haproxy +pass .*\npgbouncer +pass .*\npostgres +pass .*\nsystem +pass .*interface lo up; holds 127\.0\.0\.1\nhealthy \(daemon\)\n$/)
  const json = JSON.parse(launcher(['check', '--json']).stdout)
  t.match(json, { healthy: true, source: 'daemon', checks: [{ name: 'haproxy' }, { name: 'pgbouncer' }, { name: 'postgres' }, { name: 'system' }] })
  t.comment(`launcher ${fast.ms.toFixed(1)} ms, Node.js through the daemon ${slow.ms.toFixed(0)} ms`)
  if (hasStrace) {
    const trace = join(stack.dir, 'launcher.strace')
    t.equal(launcher(['check', '--timeout', '800'], { strace: trace }).code, 0)
    const lines = readFileSync(trace, 'utf8').split('\n')
    t.equal(lines.filter((l) => /\bexecve\(/.test(l) && !/ENOENT/.test(l)).length, 2, 'env, then the launcher: nothing else')
    t.equal(lines.filter((l) => /\b(clone3?|v?fork)\(/.test(l)).length, 0, 'no fork')
  }
})

t.test('HAProxy SIGKILL: the launcher says 1 as soon as the daemon knows, 0 once it is back', async (t) => {
  await stack.haproxy.kill()
  const killedAt = performance.now()
  const down = await waitFor('check exit 1', () => {
    const r = launcher(['check'])
    return r.code === 1 ? r : undefined
  }, 5000, 5)
  t.comment(`launcher exit 1 ${(performance.now() - killedAt).toFixed(0)} ms after SIGKILL`)
  t.match(down.stdout, /^haproxy +fail .*HAProxy/m)
  t.match(down.stdout, /UNHEALTHY \(daemon\)\n$/)
  await stack.haproxy.start()
  await waitFor('check exit 0', () => launcher(['check']).code === 0 || undefined, 10_000, 50)
})

t.test('the daemon\'s check rounds start no process (strace on the running daemon)', { skip: !hasStrace && 'strace not installed' }, async (t) => {
  const trace = join(stack.dir, 'daemon.strace')
  const tracer = spawn('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=execve,clone,clone3,fork,vfork', '-p', String(daemon.child.pid)], { stdio: 'ignore' })
  await new Promise((r) => setTimeout(r, 500)) // attached
  // Each round moves the verdict's expiry (its mtime); its content changes only with the outcome.
  const before = statSync(verdictFile).mtimeMs
  await new Promise((r) => setTimeout(r, 3000)) // ~10 rounds at 300 ms, with the system check
  tracer.kill('SIGINT')
  await new Promise((r) => tracer.once('exit', r))
  t.ok(statSync(verdictFile).mtimeMs >= before + 2000, 'rounds went on meanwhile (the expiry moved on by seconds)')
  const lines = readFileSync(trace, 'utf8').split('\n')
  const spawned = lines.filter((l) => /\b(execve|v?fork)\(/.test(l) || (/\bclone3?\(/.test(l) && !/CLONE_THREAD/.test(l)))
  t.same(spawned, [], 'no execve, fork or non-thread clone')
})

t.test('`status` shows this host\'s facts for people; --json keeps the snapshot', async (t) => {
  const human = await runCli(['status', '--config', config])
  t.equal(human.code, 0, human.stderr)
  t.match(human.stdout, /^host \S+: .+, Linux \S+, up .+, load [\d.]+ [\d.]+ [\d.]+, memory [\d.]+ GiB of [\d.]+ GiB available\n/)
  t.match(human.stdout, /test-node \(this\)/)
  const json = JSON.parse((await runCli(['status', '--json', '--config', config])).stdout)
  t.equal(json.node, 'test-node')
  t.notOk('host' in json)
})

t.test('SIGTERM removes the verdict: the launcher hands `check` to Node.js again', async (t) => {
  t.equal(await daemon.stop('SIGTERM'), 0)
  t.notOk(existsSync(verdictFile), 'verdict removed on a clean stop')
  const r = launcher(['check'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /healthy \(local\)\n$/, 'Node.js probed itself')
})

t.test('SIGKILL: the verdict left behind expires within 2 intervals + a timeout', async (t) => {
  const again = runDaemon(t, config, { launcher: true })
  await waitFor('published', () => existsSync(verdictFile) || undefined, 15_000)
  await waitFor('answered by the launcher', () => /\(daemon\)\n$/.test(launcher(['check']).stdout) || undefined, 15_000, 50)
  again.child.kill('SIGKILL')
  await again.exited
  const killedAt = Date.now()
  t.ok(existsSync(verdictFile), 'left behind')
  // when the first run that no longer took the verdict began: the launcher reads the verdict's age
  // first thing, so that is when it had expired; the Node.js run it then hands over to (100-500 ms
  // to start and probe on a loaded host) is not the verdict's age
  const expiredBy = await waitFor('Node.js answers', () => {
    const began = Date.now()
    return /\(local\)\n$/.test(launcher(['check']).stdout) ? began : undefined
  }, 5000, 50)
  const after = expiredBy - killedAt
  t.comment(`the launcher stopped answering from the dead daemon's verdict ${after} ms after the kill`)
  t.ok(after <= 2 * 300 + 1000 + 500, `${after} ms: 2 intervals + a timeout (1600 ms), + 500 ms for the runs polling it`)
})
