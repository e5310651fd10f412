// The README's layering rule ("Development"), checked over every import in
// src/ so that it holds by itself: an import points down the layers, never up;
// folders of one layer import each other only as SIDEWAYS says (and that stays
// acyclic); an import from another folder goes through its index.ts unless the
// module is one of the LIGHT ones a fast path loads on its own.
import t from 'tap'
import ts from 'typescript'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, posix, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')

/** Each folder of src/ (and each file at its top) in its layer: an import goes to a lower rank, or sideways as listed. */
const RANKS: Record<string, number> = {
  // base: what every layer may use
  errors: 0, events: 0, fs: 0, log: 0, net: 0, redact: 0, version: 0,
  config: 1,
  // capabilities
  api: 2, checks: 2, cluster: 2, control: 2, haproxy: 2, host: 2, http: 2, keepalived: 2, launcher: 2, outbox: 2, rounds: 2, webhooks: 2,
  // what puts the capabilities together: the daemon runs them, the doctor inspects them (neither imports the other)
  daemon: 3, doctor: 3,
  // the contract between the entry point and the commands: context, flags, argv, help text
  cli: 4,
  commands: 5,
  // the entry point
  'cli.ts': 6, 'bin.ts': 6,
}

const LAYER_NAMES = ['base', 'config', 'capabilities', 'daemon and doctor', 'cli/', 'commands', 'the entry point']

/** Imports between folders of the same rank: exactly what the code needs. */
const SIDEWAYS: Record<string, readonly string[]> = {
  net: ['errors'],
  log: ['redact'],
  checks: ['haproxy', 'keepalived'],
  cluster: ['http', 'outbox', 'rounds'],
  control: ['api', 'checks', 'keepalived'],
  keepalived: ['outbox'],
  launcher: ['checks'],
  webhooks: ['http', 'outbox'],
  'bin.ts': ['cli.ts'],
}

/**
 * Modules imported directly from outside their folder, past its index.ts: each
 * is what a fast path loads without the rest of its folder (`check` and `notify`
 * run as fresh processes; the esbuild metafile test guards what `check` loads).
 */
const LIGHT: Record<string, string> = {
  'api/status.ts': "the /status schema without app.ts (fastify) and metrics.ts (prom-client): `ha-agent status`, the control protocol's types",
  'checks/format.ts': "printing a verdict without the probes: `check` when the daemon answers, the launcher's verdict file",
  'checks/track-fallback.ts': '`check` keeping the track_file without a daemon: not in checks/index.ts, loaded only then',
  'checks/types.ts': "the verdict's shape without the probes: `check` when the daemon answers, the verdict file, the control protocol",
  'config/load.ts': 'loaded by the entry point only when a command asks for its config (yaml and zod on demand)',
  'config/peek.ts': 'the line-scan peeks: `check`, `notify` and the entry point read the config without YAML or zod',
  'config/recording.ts': "`notify`'s lenient config (no secrets): not in config/index.ts, loaded only by `notify` without a daemon",
  'control/client.ts': 'the client side of the control socket, without the server and its request schemas (zod)',
  'keepalived/fork-order.ts': '`notify` while the daemon answers: without record.ts (the outbox, yaml and zod)',
  'keepalived/operator-state.ts': '`check` keeping the track files without a daemon honours maintenance and the yield: without record.ts',
  'keepalived/notify-args.ts': '`notify` while the daemon answers, and the control protocol: without record.ts (the outbox, yaml and zod)',
  'keepalived/record.ts': '`notify` recording by itself: loaded only when the daemon does not answer',
  'keepalived/track-file.ts': '`check` writing the track_file without a daemon: without record.ts, the FIFO and the state store',
  'outbox/ids.ts': '`notify` while the daemon answers, and keepalived\'s fork order on its path: event ids without the queues',
  'outbox/outbox.ts': '`notify` spooling on a full disk: loaded only then',
}

interface Import {
  /** the importing file, relative to src/ (posix) */
  file: string
  spec: string
}

/** Every relative import of every file: static, re-exports, side-effect and import() (comments and strings are not imports). */
function importsOf(files: ReadonlyMap<string, string>): Import[] {
  const out: Import[] = []
  for (const [file, text] of files) {
    for (const f of ts.preProcessFile(text, true, true).importedFiles) if (f.fileName.startsWith('.')) out.push({ file, spec: f.fileName })
  }
  return out
}

/** A folder, or a file at the top of src/. */
const unitOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path)
const rankText = (unit: string) => (unit in RANKS ? `${LAYER_NAMES[RANKS[unit]!]}` : 'no layer')

/** What breaks the rule, one line each, naming file, import and the rule. */
function layerProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = []
  const hasIndex = (unit: string) => files.has(`${unit}/index.ts`)
  for (const file of files.keys()) if (!(unitOf(file) in RANKS)) problems.push(`${file}: ${unitOf(file)} is in no layer: give it a rank in RANKS (test/structure/layers.test.ts) and the README`)
  for (const { file, spec } of importsOf(files)) {
    const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts')
    const at = `${file}: import '${spec}'`
    if (target.startsWith('../')) {
      problems.push(`${at} leaves src/`)
      continue
    }
    if (!files.has(target)) {
      problems.push(`${at}: no such module (${target})`)
      continue
    }
    const from = unitOf(file)
    const to = unitOf(target)
    if (from === to || !(from in RANKS) || !(to in RANKS)) continue
    const up = RANKS[to]! > RANKS[from]!
    const sideways = RANKS[to] === RANKS[from]
    if (up) problems.push(`${at} points up the layers: ${from} (${rankText(from)}) may not import ${to} (${rankText(to)})`)
    else if (sideways && !SIDEWAYS[from]?.includes(to)) {
      problems.push(`${at}: ${from} and ${to} are both ${rankText(from)}, and SIDEWAYS does not let ${from} import ${to}`)
    }
    if (hasIndex(to) && target !== `${to}/index.ts` && !(target in LIGHT)) {
      problems.push(`${at}: from outside ${to}/, import ${to}/index.ts (its public surface), not ${target}; or list ${target} in LIGHT with the fast path that needs it`)
    }
  }
  return problems
}

/** SIDEWAYS as a graph has no cycle (a cycle there would make two folders one). */
function sidewaysCycle(edges: Readonly<Record<string, readonly string[]>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const visit = (n: string, path: string[]): string[] | undefined => {
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n]
    if (state.get(n) === 'done') return undefined
    state.set(n, 'open')
    for (const m of edges[n] ?? []) {
      const cycle = visit(m, [...path, n])
      if (cycle) return cycle
    }
    state.set(n, 'done')
    return undefined
  }
  for (const n of Object.keys(edges)) {
    const cycle = visit(n, [])
    if (cycle) return cycle
  }
  return undefined
}

function readSrc(): Map<string, string> {
  const files = new Map<string, string>()
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.ts')) files.set(relative(SRC, path).split('\\').join('/'), readFileSync(path, 'utf8'))
    }
  }
  walk(SRC)
  return files
}

const src = readSrc()

t.test('no import in src/ points up the layers, sideways unlisted, or past an index.ts', async (t) => {
  t.ok(src.size > 100, `read src/ (${src.size} files)`)
  const problems = layerProblems(src)
  t.same(problems, [], problems.join('\n'))
})

t.test('every layer named in RANKS is in src/', async (t) => {
  const units = new Set([...src.keys()].map(unitOf))
  for (const u of Object.keys(RANKS)) t.ok(units.has(u), `${u} exists in src/ (else remove it from RANKS)`)
})

t.test('SIDEWAYS and LIGHT say what the code does, no more', async (t) => {
  t.equal(sidewaysCycle(SIDEWAYS), undefined, 'SIDEWAYS has no cycle')
  const imports = importsOf(src).map(({ file, spec }) => ({ from: file, to: posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts') }))
  for (const [from, tos] of Object.entries(SIDEWAYS)) {
    for (const to of tos) {
      t.equal(RANKS[from], RANKS[to], `SIDEWAYS ${from} -> ${to}: one rank`)
      t.ok(imports.some((i) => unitOf(i.from) === from && unitOf(i.to) === to), `SIDEWAYS ${from} -> ${to} is used (else remove it)`)
    }
  }
  for (const light of Object.keys(LIGHT)) {
    t.ok(src.has(light), `LIGHT ${light} exists`)
    t.ok(imports.some((i) => i.to === light && unitOf(i.from) !== unitOf(light)), `LIGHT ${light} is imported from outside its folder (else remove it)`)
  }
})

t.test('the rule catches what it is for', async (t) => {
  const base = ['log/index.ts', 'config/index.ts', 'config/schema.ts', 'checks/index.ts', 'daemon/index.ts', 'daemon/y.ts', 'webhooks/index.ts', 'cli.ts']
  const problemsWith = (file: string, text: string) => layerProblems(new Map([...base.map((f): [string, string] => [f, '']), [file, text]]))
  const caught = (file: string, text: string, pattern: RegExp, msg?: string) => {
    const problems = problemsWith(file, text)
    t.equal(problems.length, 1, `${msg ?? text}: one problem`)
    t.match(problems[0], pattern, msg ?? text)
  }
  caught('log/x.ts', "import { a } from '../config/index.js'", /^log\/x\.ts: import '\.\.\/config\/index\.js' points up the layers: log \(base\) may not import config \(config\)$/)
  caught('checks/x.ts', "export { a } from '../daemon/index.js'", /points up the layers: checks \(capabilities\) may not import daemon \(daemon and doctor\)/)
  caught('checks/x.ts', "const m = await import('../daemon/index.js')", /points up/, 'import() counts')
  caught('checks/x.ts', "import type { A } from '../webhooks/index.js'", /SIDEWAYS does not let checks import webhooks/, 'a type import counts')
  caught('daemon/x.ts', "import { a } from '../config/schema.js'", /import config\/index\.ts \(its public surface\), not config\/schema\.ts/)
  caught('daemon/x.ts', "import { a } from '../nowhere/index.js'", /no such module/)
  caught('gadgets/x.ts', '', /gadgets is in no layer/)
  t.same(problemsWith('daemon/x.ts', "// import { a } from '../../cli.js'\nconst s = \"import('../cli.js')\""), [], 'comments and strings are no imports')
  t.same(problemsWith('daemon/x.ts', "import { a } from '../checks/index.js'\nimport { b } from './y.js'"), [], 'down through an index, and within a folder: fine')
  t.same(sidewaysCycle({ a: ['b'], b: ['c'], c: ['a'] }), ['a', 'b', 'c', 'a'])
})
