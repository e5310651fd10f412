// The sh launcher (src/launcher/ha-agent.sh) against verdict files written by
// writeVerdictFile: it answers `check` from a fresh verdict of its own config with
// builtins alone, and execs Node.js, with the same arguments, for anything else.
// Node.js is replaced by a stand-in that prints its argv, so every fallback is
// seen for what it is; the last tests use the real bundle.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chownSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeVerdictFile } from '../../src/launcher/verdict-file.js'
import type { Verdict } from '../../src/checks/types.js'

const SRC = fileURLToPath(new URL('../../src/launcher/ha-agent.sh', import.meta.url))
const DIST = fileURLToPath(new URL('../../dist/ha-agent', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ha-agent-launcher-'))
chmodSync(dir, 0o755)
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

// The stand-in for Node.js: its argv (one per line, after "NODE"), HA_AGENT_CONFIG, a line on stderr, exit 42.
const fakeNode = join(dir, 'fake-node')
writeFileSync(fakeNode, '#!/bin/sh\necho NODE\nfor a do printf "%s\\n" "$a"; done\necho "HA_AGENT_CONFIG=${HA_AGENT_CONFIG-unset}"\necho "fake node stderr" >&2\nexit 42\n', { mode: 0o755 })
const FAKE_JS = '/fake/lib/ha-agent.js'

/** A copy of the launcher with its install lines pointed at the stand-in and at this test's directories. */
function launcher(name: string, defaults: { config?: string; runtimeDir?: string } = {}): string {
  const path = join(dir, name)
  const text = readFileSync(SRC, 'utf8')
    .replace(/^HA_AGENT_NODE=.*$/m, `HA_AGENT_NODE=${fakeNode}`)
    .replace(/^HA_AGENT_JS=.*$/m, `HA_AGENT_JS=${FAKE_JS}`)
    .replace(/^HA_AGENT_DEFAULT_CONFIG=.*$/m, `HA_AGENT_DEFAULT_CONFIG=${defaults.config ?? '/etc/ha-agent/config.yaml'}`)
    .replace(/^HA_AGENT_DEFAULT_RUNTIME_DIR=.*$/m, `HA_AGENT_DEFAULT_RUNTIME_DIR=${defaults.runtimeDir ?? join(dir, 'no-default-runtime')}`)
  writeFileSync(path, text, { mode: 0o755 })
  return path
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** argv the stand-in Node.js got, or undefined when the launcher answered itself */
  node?: string[]
  nodeEnvConfig?: string
}

/** keepalived's way: a fresh process, a near-empty environment, optionally another user. */
function run(argv: string[], opts: { env?: Record<string, string>; user?: string; strace?: string } = {}): Run {
  const env = ['PATH=/usr/bin:/bin', ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`)]
  let cmd = ['env', '-i', ...env, ...argv]
  if (opts.user) cmd = ['setpriv', `--reuid=${opts.user}`, `--regid=${opts.user === 'nobody' ? 'nogroup' : opts.user}`, '--clear-groups', '--', ...cmd]
  if (opts.strace) cmd = ['strace', '-f', '-qq', '-o', opts.strace, '-e', 'trace=execve,clone,clone3,fork,vfork', ...cmd]
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' })
  const out: Run = { code: r.status, stdout: r.stdout, stderr: r.stderr }
  if (r.stdout.startsWith('NODE\n')) {
    const lines = r.stdout.split('\n').slice(1, -1)
    out.nodeEnvConfig = lines.pop()!.replace(/^HA_AGENT_CONFIG=/, '')
    out.node = lines
  }
  return out
}

const at = new Date().toISOString()
const healthy: Verdict = {
  healthy: true,
  checks: [
    { name: 'haproxy', status: 'pass', latencyMs: 0.4, detail: 'HAProxy 2.6.12, pgbouncers 3/3 UP', checkedAt: at },
    { name: 'pgbouncer', status: 'pass', latencyMs: 3, detail: '3/3 answer (min 1)', checkedAt: at },
  ],
  checkedAt: at,
  source: 'daemon',
}
const unhealthy: Verdict = {
  healthy: false,
  checks: [{ name: 'postgres', status: 'fail', latencyMs: 801, detail: 'no answer within 800 ms; a \\n, "quotes" and  spaces ', checkedAt: at }],
  checkedAt: at,
  source: 'daemon',
}
const HEALTHY_TEXT = 'haproxy   pass    0ms  HAProxy 2.6.12, pgbouncers 3/3 UP\npgbouncer pass    3ms  3/3 answer (min 1)\nhealthy (daemon)\n'

/** A node's config with its own runtime_dir (written in the config, as the lab and tests do). */
function node(name: string, runtimeLine?: (rt: string) => string) {
  const runtimeDir = join(dir, `${name}-run`)
  mkdirSync(runtimeDir, { recursive: true, mode: 0o755 })
  const config = join(dir, `${name}.yaml`)
  writeFileSync(config, `# ${name}\nnode: ${name}\n${runtimeLine ? runtimeLine(runtimeDir) : `runtime_dir: ${runtimeDir}`}\nchecks:\n  interval_ms: 500\n`)
  const publish = (verdict: Verdict, expiresInMs = 1800, configPath = config) =>
    writeVerdictFile(runtimeDir, { exitCode: verdict.healthy ? 0 : 1, configPath, verdict, expiresAt: Date.now() + expiresInMs })
  return { config, runtimeDir, publish }
}

const plain = launcher('ha-agent')

t.test('a fresh healthy verdict: exit 0 and the text, every plain form of the command line', async (t) => {
  const n = node('healthy')
  n.publish(healthy)
  for (const argv of [
    ['--config', n.config, 'check'],
    [`--config=${n.config}`, 'check'],
    ['check', '--config', n.config],
    ['--config', n.config, 'check', '--timeout', '800'],
    ['--config', n.config, 'check', '--timeout=800'],
  ]) {
    const r = run([plain, ...argv])
    t.same({ code: r.code, stdout: r.stdout, stderr: r.stderr, node: r.node }, { code: 0, stdout: HEALTHY_TEXT, stderr: '', node: undefined }, argv.join(' '))
  }
  const viaEnv = run([plain, 'check'], { env: { HA_AGENT_CONFIG: n.config } })
  t.same([viaEnv.code, viaEnv.stdout], [0, HEALTHY_TEXT], 'HA_AGENT_CONFIG')
})

t.test('a fresh unhealthy verdict: exit 1 and the text as is', async (t) => {
  const n = node('unhealthy')
  n.publish(unhealthy)
  const r = run([plain, '--config', n.config, 'check'])
  t.same([r.code, r.stdout, r.node], [1, 'postgres  fail  801ms  no answer within 800 ms; a \\n, "quotes" and  spaces \nUNHEALTHY (daemon)\n', undefined])
})

t.test('--json prints the JSON verdict', async (t) => {
  const n = node('json')
  n.publish(unhealthy)
  const r = run([plain, '--config', n.config, 'check', '--json'])
  t.equal(r.code, 1)
  t.same(JSON.parse(r.stdout), unhealthy)
  t.equal(r.stdout, JSON.stringify(unhealthy) + '\n')
})

t.test('the default config and the default runtime_dir (the installed layout) need no scan', async (t) => {
  const n = node('defaults', () => '# no runtime_dir here')
  const withDefaults = launcher('ha-agent-defaults', { config: n.config, runtimeDir: n.runtimeDir })
  n.publish(healthy)
  const r = run([withDefaults, 'check'])
  t.same([r.code, r.stdout], [0, HEALTHY_TEXT])
  // its fallback hands Node.js the same default, through HA_AGENT_CONFIG
  const other = run([withDefaults, 'status'])
  t.same([other.code, other.node, other.nodeEnvConfig], [42, [FAKE_JS, 'status'], n.config])
  const stock = run([plain, 'status'])
  t.equal(stock.nodeEnvConfig, 'unset', 'the stock launcher leaves the environment alone')
})

t.test('runtime_dir read from the config: plain values only, anything fancier goes to Node.js', async (t) => {
  const commented = node('commented', (rt) => `runtime_dir:   ${rt}/   # per node`)
  commented.publish(healthy)
  t.equal(run([plain, '--config', commented.config, 'check']).code, 0, 'trailing slash, spaces and a comment')
  for (const [name, line] of [
    ['quoted', (rt: string) => `runtime_dir: "${rt}"`],
    ['relative', () => 'runtime_dir: run'],
    ['nested', (rt: string) => `x:\n  runtime_dir: ${rt}`],
  ] as const) {
    const n = node(name, line)
    n.publish(healthy)
    const r = run([plain, '--config', n.config, 'check'])
    t.same([r.code, r.node], [42, [FAKE_JS, '--config', n.config, 'check']], name)
  }
})

t.test('stale, foreign, missing or malformed verdicts: Node.js, with the same arguments', async (t) => {
  const n = node('stale')
  const argv = ['--config', n.config, 'check', '--timeout', '800']
  const viaNode = (what: string) => {
    const r = run([plain, ...argv])
    t.same([r.code, r.node, r.stderr], [42, [FAKE_JS, ...argv], 'fake node stderr\n'], what)
  }
  viaNode('no verdict at all')
  n.publish(healthy, -1)
  viaNode('expired')
  n.publish(healthy, 400)
  t.equal(run([plain, ...argv]).code, 0, 'fresh for 400 ms')
  await new Promise((r) => setTimeout(r, 500))
  viaNode('expired while we waited')
  n.publish(healthy, 1800, join(dir, 'another.yaml'))
  viaNode('a daemon of another config')
  const verdict = join(n.runtimeDir, 'verdict')
  for (const [what, content] of [
    ['unknown version', 'ha-agent-verdict 2\nexit 0\n'],
    ['exit 2', `ha-agent-verdict 1\nexit 2\nconfig ${n.config}\nlines 1\ntext x\njson {}\n`],
    ['fewer text lines than counted', `ha-agent-verdict 1\nexit 0\nconfig ${n.config}\nlines 3\ntext x\njson {}\n`],
    ['truncated', `ha-agent-verdict 1\nexit 0\nconfig ${n.config}\nlines 1\ntext x`],
    ['empty', ''],
  ] as Array<[string, string]>) {
    writeFileSync(verdict, content)
    utimesSync(verdict, new Date(), new Date(Date.now() + 5000))
    viaNode(what)
  }
  rmSync(n.runtimeDir, { recursive: true })
  viaNode('no runtime_dir')
  const rel = run([plain, '--config', 'relative.yaml', 'check'])
  t.same(rel.node, [FAKE_JS, '--config', 'relative.yaml', 'check'], 'a relative config path')
  const empty = run([plain, 'check'], { env: { HA_AGENT_CONFIG: '' } })
  t.same(empty.node, [FAKE_JS, 'check'], 'an empty HA_AGENT_CONFIG')
})

t.test('a verdict this user cannot read: Node.js; a runtime_dir it cannot write: still answered', async (t) => {
  const n = node('perms')
  chownSync(n.runtimeDir, 0, 0)
  chmodSync(n.runtimeDir, 0o755)
  n.publish(healthy)
  const ro = run([plain, '--config', n.config, 'check'], { user: 'nobody' })
  t.same([ro.code, ro.stdout], [0, HEALTHY_TEXT], 'nothing is written: a read-only runtime_dir is fine')
  chmodSync(join(n.runtimeDir, 'verdict'), 0o600)
  const unreadable = run([plain, '--config', n.config, 'check'], { user: 'nobody' })
  t.same([unreadable.code, unreadable.node, unreadable.stderr], [42, [FAKE_JS, '--config', n.config, 'check'], 'fake node stderr\n'], 'unreadable: Node.js, nothing printed, stderr intact')
})

t.test('everything else goes to Node.js with its argv unchanged; `run` gets the daemon flags', async (t) => {
  const n = node('argv')
  n.publish(healthy)
  const c = ['--config', n.config]
  for (const argv of [
    ['--version'],
    ['--help'],
    [],
    ['notify', 'INSTANCE', 'VI_1', 'MASTER', '100'],
    [...c, 'notify', 'master', 'VI_1'],
    [...c, 'status', '--json'],
    [...c, 'check', '--only', 'haproxy'],
    [...c, 'check', '--json', '--json'],
    [...c, 'check', '--timeout', '0'],
    [...c, 'check', '--timeout=abc'],
    [...c, 'check', '--timeout', '1.5'],
    [...c, 'check', '--timeout'],
    [...c, 'check', 'haproxy'],
    [...c, 'check', '--bogus'],
    [...c, 'check', '--'],
    [...c, '--json', 'check'],
    [...c, 'check', '--help'],
    [...c, 'check', '--version'],
    ['--config'],
    [...c, 'check', '--json=yes'],
    [...c, 'config', 'check'],
    ['with space', 'and "quotes"', '$HOME', '*'],
  ]) {
    const r = run([plain, ...argv])
    t.same([r.code, r.node], [42, [FAKE_JS, ...argv]], argv.join(' ') || '(no arguments)')
  }
  const daemon = run([plain, ...c, 'run'])
  t.equal(daemon.code, 42)
  const flags = daemon.node!.slice(0, daemon.node!.indexOf(FAKE_JS))
  t.ok(flags.length > 0 && flags.every((f) => f.startsWith('--')), `run gets the Node.js flags: ${flags.join(' ')}`)
  t.same(daemon.node!.slice(flags.length), [FAKE_JS, ...c, 'run'])
})

t.test('a /proc of another PID namespace cannot tell "now": Node.js', async (t) => {
  const n = node('pidns')
  n.publish(healthy)
  const argv = [plain, '--config', n.config, 'check']
  const own = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', ...argv], { encoding: 'utf8' })
  t.same([own.status, own.stdout], [0, HEALTHY_TEXT], 'its own /proc: answered')
  // /proc/$$ there is another process, perhaps one looked up long ago: -ef against /proc/self says so
  const foreign = spawnSync('unshare', ['--pid', '--fork', ...argv], { encoding: 'utf8' })
  t.equal(foreign.status, 42, 'the host /proc: Node.js')
  t.match(foreign.stdout, /^NODE\n/)
})

const strace = spawnSync('strace', ['-V']).status === 0
t.test('the fast path starts no process at all; the fallback does', { skip: !strace && 'strace not installed' }, async (t) => {
  const n = node('strace')
  n.publish(healthy)
  const count = (argv: string[]) => {
    const file = join(dir, `strace-${Math.random()}`)
    const r = run([plain, ...argv], { strace: file })
    const lines = readFileSync(file, 'utf8').split('\n')
    return {
      code: r.code,
      // `env -i` execs the launcher (1); anything more is a process the launcher started
      execs: lines.filter((l) => /\bexecve\(/.test(l) && !/ENOENT/.test(l)).length,
      forks: lines.filter((l) => /\b(clone3?|v?fork)\(/.test(l)).length,
    }
  }
  t.same(count(['--config', n.config, 'check']), { code: 0, execs: 2, forks: 0 }, 'check: env, then the launcher, nothing else')
  t.same(count(['--config', n.config, 'check', '--json']), { code: 0, execs: 2, forks: 0 }, 'check --json')
  t.same(count(['--config', n.config, 'check', '--only', 'haproxy']), { code: 42, execs: 3, forks: 0 }, 'a fallback is one more exec, still no fork')
})

t.test('the built launcher (dist/ha-agent) runs the bundle next to it: fallbacks answer as Node.js does', async (t) => {
  const n = node('real')
  const bundle = (argv: string[]) => {
    const r = spawnSync('env', ['-i', `PATH=${process.env.PATH}`, process.execPath, join(DIST, '..', 'ha-agent.js'), ...argv], { encoding: 'utf8' })
    return [r.status, r.stdout, r.stderr]
  }
  for (const argv of [['--version'], ['check', '--bogus'], ['--config', n.config, 'check', '--timeout', '0'], ['--config', join(dir, 'nosuch.yaml'), 'check', '--only', 'system']]) {
    const r = spawnSync('env', ['-i', `PATH=${process.env.PATH}`, DIST, ...argv], { encoding: 'utf8' })
    t.same([r.status, r.stdout, r.stderr], bundle(argv), argv.join(' '))
  }
  n.publish(healthy)
  const fast = spawnSync('env', ['-i', `PATH=${process.env.PATH}`, DIST, '--config', n.config, 'check'], { encoding: 'utf8' })
  t.same([fast.status, fast.stdout], [0, HEALTHY_TEXT], 'and answers a fresh verdict itself')
})
