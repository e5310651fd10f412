// `ha-agent check` wall time as keepalived sees it: the built bundle, a fresh
// process each time, no daemon, against the healthy real stack. Median of 20.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startStack } from '../fixtures/stack.js'
import { CLI } from '../fixtures/cli.js'
import { runCleanCli } from '../fixtures/stack-cli.js'
import { waitFor } from '../fixtures/procs.js'

const RUNS = 20
const stack = await startStack(t)
const config = stack.writeAgentConfig()
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

await waitFor('a healthy verdict', async () => (await runCleanCli(['check', '--config', config])).code === 0 || undefined, 20_000, 200)

t.test(`median wall time of ${RUNS} runs, every run healthy`, async (t) => {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const r = await runCleanCli(['check', '--config', config])
    t.equal(r.code, 0, `run ${i + 1}: ${r.stdout}${r.stderr}`)
    times.push(r.ms)
  }
  const bare: number[] = []
  for (let i = 0; i < 5; i++) bare.push((await runCleanCli(['--version'])).ms)
  t.comment(
    `ha-agent check (haproxy+pgbouncer+postgres, no daemon): median ${median(times).toFixed(0)} ms, ` +
      `min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}; ` +
      `ha-agent --version (Node boot + bundle entry): median ${median(bare).toFixed(0)} ms`,
  )
  // generous: a loaded 2-core CI box; the point is to catch a heavy import on this path
  t.ok(median(times) < 1000, `median ${median(times).toFixed(0)} ms`)
})

t.test('the check path loads no fastify, node-cron, prom-client or pino', async (t) => {
  const meta = JSON.parse(readFileSync(join(CLI, '..', 'meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string }>; entryPoint?: string }>
  }
  // Walk the static imports from the chunk holding src/commands/check.ts, and from
  // the chunks it loads on the local path (config, checks); dynamic imports inside
  // the probes (pg, systeminformation) load only when that check is configured.
  const outputs = meta.outputs
  const chunkOf = (src: string) => Object.keys(outputs).find((o) => src in outputs[o]!.inputs)
  const reach = new Set<string>()
  const visit = (o: string | undefined) => {
    if (!o || reach.has(o)) return
    reach.add(o)
    for (const imp of outputs[o]!.imports) if (imp.kind === 'import-statement' && imp.path in outputs) visit(imp.path)
  }
  for (const src of ['src/commands/check.ts', 'src/config/load.ts', 'src/checks/index.ts']) {
    const o = chunkOf(src)
    t.ok(o, `${src} is in the bundle`)
    visit(o)
  }
  const inputs = [...reach].flatMap((o) => Object.keys(outputs[o]!.inputs))
  for (const heavy of ['fastify', 'node-cron', 'prom-client', 'pino', 'systeminformation', 'pg']) {
    t.notOk(inputs.some((i) => i.startsWith(`node_modules/${heavy}/`)), `${heavy} is not loaded up front`)
  }
})

t.test("the bundle's pg never asks for `Response` (on Node.js 20 that loads undici and its WebAssembly: +13 MB)", async (t) => {
  const meta = JSON.parse(readFileSync(join(CLI, '..', 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> }
  // Inputs are named from the real path: a node_modules symlinked from elsewhere (a git worktree) is ../…/node_modules.
  const chunk = Object.keys(meta.outputs).find((o) => Object.keys(meta.outputs[o]!.inputs).some((i) => i.endsWith('node_modules/pg/lib/stream.js')))
  t.ok(chunk, 'pg is in the bundle')
  const text = readFileSync(join(CLI, '..', '..', chunk!), 'utf8')
  t.match(text, /function isCloudflareRuntime\(\)\s*\{\s*return\s*!1;?\s*\}/, 'isCloudflareRuntime() is false outright')
  t.notMatch(text, /typeof Response/)
})

t.test('hyperfine agrees (when installed)', { skip: !hasHyperfine() && 'hyperfine not installed' }, async (t) => {
  const exported = join(stack.dir, 'hyperfine.json')
  execFileSync(
    'hyperfine',
    ['--runs', String(RUNS), '--warmup', '2', '-N', '--export-json', exported, '--style', 'none', `env -i PATH=${process.env.PATH} ${process.execPath} ${CLI} check --config ${config}`],
    { stdio: 'ignore' },
  )
  const result = JSON.parse(readFileSync(exported, 'utf8')).results[0] as { median: number; mean: number; stddev: number }
  t.comment(`hyperfine: median ${(result.median * 1000).toFixed(0)} ms, mean ${(result.mean * 1000).toFixed(0)} ± ${(result.stddev * 1000).toFixed(0)} ms`)
  t.ok(result.median < 1, `median ${(result.median * 1000).toFixed(0)} ms`)
})

function hasHyperfine(): boolean {
  try {
    execFileSync('hyperfine', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
