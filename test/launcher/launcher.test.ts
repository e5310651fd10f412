// The sh launcher (src/launcher/ha-agent.sh) against verdict files written by
// writeVerdictFile: it answers `check` from a fresh verdict of its own config with
// builtins alone, and execs Node.js, with the same arguments, for anything else.
// Node.js is replaced by a stand-in that prints its argv, so every fallback is
// seen for what it is; the last tests use the real bundle. (Another user and
// another PID namespace, which need root: test/integration/launcher-privileges.test.ts.)
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { DIST, FAKE_JS, HEALTHY_TEXT, healthy, launcherLab, unhealthy } from '../fixtures/launcher.js'

const { dir, launcher, run, node } = launcherLab(t)
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
  // long enough for a launcher started on a loaded machine to find it fresh
  n.publish(healthy, 1500)
  t.equal(run([plain, ...argv]).code, 0, 'fresh for 1500 ms')
  await new Promise((r) => setTimeout(r, 1600))
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

t.test('the daemon\'s Node.js flags start Node.js without a word on stderr (the journal stays quiet)', async (t) => {
  const src = readFileSync(new URL('../../src/launcher/ha-agent.sh', import.meta.url), 'utf8')
  const flags = /^HA_AGENT_RUN_FLAGS='([^']*)'$/m.exec(src)?.[1]
  t.ok(flags, 'the launcher names its flags')
  const r = spawnSync(process.execPath, [...flags!.split(' '), '-e', 'console.log(typeof WebAssembly)'], { encoding: 'utf8', env: { PATH: process.env.PATH } })
  t.same({ status: r.status, stderr: r.stderr, stdout: r.stdout }, { status: 0, stderr: '', stdout: 'undefined\n' }, 'no warning; WebAssembly off, as --lite-mode has it')
})
