// `ha-agent check` in-process through main(): flags, the config's timeout, the
// daemon-first path and the hard deadline, against sockets that misbehave.
import t from 'tap'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli.js'
import { createCheckCommand } from '../../src/commands/check.js'
import { loadConfig } from '../../src/config/index.js'
import { misbehavingServer } from '../fixtures/procs.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-checkcmd-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const hungSocket = join(dir, 'hung.sock')
const hung = await misbehavingServer(hungSocket, () => {})
t.teardown(() => hung.close())

function writeConfig(name: string, timeoutMs: number | null, extra = ''): { path: string; runtimeDir: string } {
  const runtimeDir = join(dir, `run-${name}`)
  mkdirSync(runtimeDir, { recursive: true })
  const path = join(dir, `${name}.yaml`)
  writeFileSync(
    path,
    [
      `runtime_dir: ${runtimeDir}`,
      `state_dir: ${join(dir, 'state')}`,
      'checks:',
      '  interval_ms: 1000',
      ...(timeoutMs === null ? [] : [`  timeout_ms: ${timeoutMs}   # per check`]),
      '  haproxy:',
      `    socket: ${hungSocket}`,
      '  system: { interface: lo }',
      extra,
    ].join('\n'),
  )
  return { path, runtimeDir }
}

async function run(args: string[]) {
  let stdout = ''
  let stderr = ''
  const started = performance.now()
  const code = await main(args, {
    env: {},
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  })
  return { code, stdout, stderr, ms: performance.now() - started }
}

// The command with its clock started at the call (a CLI process starts it at exec).
const checkNow = createCheckCommand({ startedAt: Date.now })
async function runTimed(args: string[]) {
  const config = args[args.indexOf('--config') + 1]!
  let stdout = ''
  let stderr = ''
  const started = performance.now()
  const code = await checkNow({
    args: args.slice(1).filter((a, i, all) => a !== '--config' && all[i - 1] !== '--config'),
    configPath: config,
    env: {},
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    loadConfig: async () => loadConfig(config, { env: {} }),
    loadRecordingConfig: async () => {
      throw new Error('check never records')
    },
  })
  return { code, stdout, stderr, ms: performance.now() - started }
}

const plain = writeConfig('plain', 300)
// The budget a probe was given is read from its reason ("within 287 ms"): that,
// not the wall clock, shows which deadline was applied. The wall-clock bounds
// only catch a wait for something else entirely; timers fire late on a loaded
// 2-core CI box, so they leave a second for it.
const LATE = 1000
const budget = (stdout: string) => Number(/within (\d+) ms/.exec(stdout)?.[1])

t.test('flag errors are usage errors (exit 2) naming the problem', async (t) => {
  const unknown = await run(['check', '--only', 'haproxy,pgbouncr', '--config', plain.path])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, 'unknown check "pgbouncr" (valid: haproxy, pgbouncer, postgres, system)')
  for (const bad of ['abc', '0', '-5', '1.5']) {
    const r = await run(['check', `--timeout=${bad}`, '--config', plain.path])
    t.equal(r.code, 2, `--timeout ${bad}`)
    t.match(r.stderr, `--timeout needs a positive number of milliseconds (got "${bad}")`)
  }
  const positional = await run(['check', 'haproxy', '--config', plain.path])
  t.equal(positional.code, 2)
  t.match(positional.stderr, 'unexpected argument "haproxy"')
  const flag = await run(['check', '--fast', '--config', plain.path])
  t.equal(flag.code, 2)
  t.match(flag.stderr, /--fast/)
})


t.test('the default timeout is checks.timeout_ms, not a constant', async (t) => {
  // Loading the modules the first time (transpiled under tap) is not what is measured here.
  await runTimed(['check', '--only', 'system', '--timeout', '10000', '--config', plain.path])
  // 300 ms: the hung socket must be given up at 300, not at a built-in 1000.
  const short = await runTimed(['check', '--only', 'haproxy', '--config', plain.path])
  t.equal(short.code, 1)
  t.match(short.stdout, /haproxy\s+fail .*hung\.sock: no answer to "show (info|stat|info;show stat)" within \d+ ms/)
  t.ok(budget(short.stdout) <= 300, `the probe had ${budget(short.stdout)} ms of the config's 300`)
  t.ok(short.ms < 300 + 200 + LATE, `answered in ${short.ms.toFixed(0)} ms`)
  // 1500 ms: longer than the built-in default, the probe still gets its time and its own reason.
  const long = writeConfig('long', 1500)
  const slow = await runTimed(['check', '--only', 'haproxy', '--config', long.path])
  t.equal(slow.code, 1)
  t.match(slow.stdout, /no answer to "show (info|stat|info;show stat)" within 1\d{3} ms/)
  t.ok(budget(slow.stdout) > 1000 && budget(slow.stdout) <= 1500, `the probe had ${budget(slow.stdout)} ms of the config's 1500`)
  t.ok(slow.ms > 1200 && slow.ms < 1500 + 200 + LATE, `answered in ${slow.ms.toFixed(0)} ms`)
  // flow style hides timeout_ms from the line scan: the loaded config re-arms the deadline
  const flowPath = join(dir, 'flow.yaml')
  writeFileSync(flowPath, `runtime_dir: ${plain.runtimeDir}\nchecks: { timeout_ms: 1300, haproxy: { socket: ${hungSocket} } }\n`)
  const flow = await runTimed(['check', '--config', flowPath])
  t.ok(budget(flow.stdout) > 1000 && budget(flow.stdout) <= 1300, `the probe had ${budget(flow.stdout)} ms of the config's 1300`)
  t.ok(flow.ms < 1300 + 200 + LATE, `answered in ${flow.ms.toFixed(0)} ms`)
  // --timeout wins over the config
  const flagged = await runTimed(['check', '--only', 'haproxy', '--timeout', '200', '--config', long.path])
  t.ok(budget(flagged.stdout) <= 200, `the probe had ${budget(flagged.stdout)} ms of --timeout 200`)
  t.ok(flagged.ms < 200 + 200 + LATE, `answered in ${flagged.ms.toFixed(0)} ms`)
})

t.test('--json prints the verdict; one line per check otherwise', async (t) => {
  const r = await runTimed(['check', '--only', 'system', '--json', '--config', plain.path])
  t.equal(r.code, 0, r.stdout + r.stderr)
  const v = JSON.parse(r.stdout)
  t.match(v, { healthy: true, source: 'local', checks: [{ name: 'system', status: 'pass', detail: /^interface lo up/ }] })
  const text = await runTimed(['check', '--only', 'system', '--config', plain.path])
  t.match(text.stdout, /^system\s+pass\s+\d+ms  interface lo up; holds no VIP\nhealthy \(local\)\n$/)
})

t.test('a daemon that answers is believed; its verdict is printed as is', async (t) => {
  const cfg = writeConfig('daemon', 300)
  const verdict = {
    healthy: true,
    checks: [{ name: 'haproxy', status: 'pass', latencyMs: 0.3, detail: 'runtime API answers', checkedAt: new Date().toISOString() }],
    checkedAt: new Date().toISOString(),
    source: 'daemon',
  }
  const requests: unknown[] = []
  const daemon = await misbehavingServer(join(cfg.runtimeDir, 'agent.sock'), (c) =>
    c.once('data', (d) => {
      requests.push(JSON.parse(String(d)))
      c.end(JSON.stringify({ ok: true, verdict }) + '\n')
    }),
  )
  t.teardown(() => daemon.close())
  const r = await runTimed(['check', '--only', 'haproxy', '--config', cfg.path])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^haproxy\s+pass .*runtime API answers\nhealthy \(daemon\)\n$/)
  t.match(requests[0], { op: 'check', only: ['haproxy'], configPath: cfg.path })
  t.notOk('timeoutMs' in (requests[0] as object), 'without --timeout the daemon uses its own checks.timeout_ms')
})

t.test('a daemon that accepts and never answers: still exit 1 within timeout + 200 ms', async (t) => {
  const cfg = writeConfig('hungdaemon', 300)
  const daemon = await misbehavingServer(join(cfg.runtimeDir, 'agent.sock'), () => {})
  t.teardown(() => daemon.close())
  const r = await runTimed(['check', '--json', '--config', cfg.path])
  t.equal(r.code, 1)
  t.ok(r.ms < 300 + 200 + LATE, `answered in ${r.ms.toFixed(0)} ms`)
  t.match(JSON.parse(r.stdout), { healthy: false, source: 'local' }, 'it gave up on the daemon and probed itself; --json still prints a verdict')
})

t.test('starved (its own start took 600 ms) and a probe at its deadline: no evidence, so the last answer stands', async (t) => {
  const cfg = writeConfig('starved', 1000)
  const starved = createCheckCommand({ startedAt: () => Date.now() - 600 })
  const runStarved = async () => {
    let stdout = ''
    let stderr = ''
    const code = await starved({
      args: ['--only', 'haproxy'],
      configPath: cfg.path,
      env: {},
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      loadConfig: async () => loadConfig(cfg.path, { env: {} }),
      loadRecordingConfig: async () => {
        throw new Error('check never records')
      },
    })
    return { code, stdout, stderr }
  }
  const none = await runStarved()
  t.equal(none.code, 0, 'nothing known: healthy, the VIP stays where it is')
  t.match(none.stderr, /inconclusive: the probes had \d+ ms, \d+ ms went on starting this process/)
  t.match(none.stderr, /no earlier answer/)

  // The daemon's last verdict (expired 10 s ago, the daemon frozen since) said unhealthy: that stands.
  const { writeVerdictFile } = await import('../../src/launcher/verdict-file.js')
  const failing = { healthy: false, checks: [{ name: 'haproxy' as const, status: 'fail' as const, latencyMs: 3, detail: 'backend pgbouncers: 0/3 servers UP, need 1', checkedAt: new Date().toISOString() }, { name: 'pgbouncer' as const, status: 'pass' as const, latencyMs: 3, detail: '3/3 PgBouncers answer', checkedAt: new Date().toISOString() }], checkedAt: new Date().toISOString(), source: 'daemon' as const }
  writeVerdictFile(cfg.runtimeDir, { exitCode: 1, configPath: cfg.path, verdict: failing, expiresAt: Date.now() - 10_000 })
  const daemonSaid = await runStarved()
  t.equal(daemonSaid.code, 1)
  t.match(daemonSaid.stderr, /the daemon's last answer, 1\d s old/)
  t.match(daemonSaid.stdout, /0\/3 servers UP/)
  t.notMatch(daemonSaid.stdout, /^pgbouncer\s/m, 'only the checks asked about')
})

t.test('not starved, a probe at its deadline is evidence: exit 1, and it is remembered', async (t) => {
  const cfg = writeConfig('remembered', 300)
  const r = await runTimed(['check', '--only', 'haproxy', '--config', cfg.path])
  t.equal(r.code, 1)
  const { readVerdictFile } = await import('../../src/launcher/verdict-file.js')
  t.match(readVerdictFile(join(cfg.runtimeDir, 'check-last')), { exitCode: 1, configPath: cfg.path, verdict: { healthy: false, source: 'local' } }, 'the next starved run can answer with it')
})
