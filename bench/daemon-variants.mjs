#!/usr/bin/env node
// What the daemon costs under one Node.js flag set (or build) against another, in
// the same lab at the shipped intervals: both nodes' agents are restarted with
// each variant, left to settle, then node 1's and node 2's daemons are measured
// over the same window (CPU from /proc/PID/stat, RSS at the end). Needs root.
//
//   node bench/daemon-variants.mjs [--window S] [--warmup S] [--repeat N] VARIANT...
//
// VARIANT is LABEL=SPEC, SPEC a list of words: Node.js flags (--max-semi-space-size=1),
// environment (MALLOC_ARENA_MAX=2), bundle=DIR (another build's dist/, e.g. of an
// older commit: git archive C | tar -x -C /tmp/c && (cd /tmp/c && npm ci && npm run build))
// and sed=EXPR (applied to both nodes' config.yaml, e.g. sed=s/interval_ms:.500/interval_ms:.1000/;
// no spaces in a word).
// An empty SPEC is the build of this tree with no flags. Variants run round-robin
// --repeat times, so a host that gets busier half-way does not favour one of them.
// Prints a table and the raw numbers as JSON.
import { execFileSync } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const LAB = `${ROOT}lab/lab.sh`
const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(name)
  if (i < 0) return dflt
  const v = Number(args[i + 1])
  args.splice(i, 2)
  return v
}
const WINDOW_S = opt('--window', 120)
const WARMUP_S = opt('--warmup', 20)
const REPEAT = opt('--repeat', 1)
const variants = args.map((a) => {
  const [label, spec = ''] = a.split(/=(.*)/s)
  const words = spec.split(/\s+/).filter(Boolean)
  return {
    label,
    flags: words.filter((w) => w.startsWith('--')),
    env: words.filter((w) => /^[A-Z_][A-Z0-9_]*=/.test(w)),
    bundle: words.find((w) => w.startsWith('bundle='))?.slice('bundle='.length),
    sed: words.filter((w) => w.startsWith('sed=')).map((w) => w.slice('sed='.length)),
  }
})
if (!variants.length || process.getuid() !== 0) {
  console.error('usage (as root): node bench/daemon-variants.mjs [--window S] [--warmup S] [--repeat N] LABEL=SPEC...')
  process.exit(2)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const prefix = `bv${process.pid % 1000}`
const dir = `/run/ha-agent-lab-${prefix}`
const env = { ...process.env, LAB_PREFIX: prefix, LAB_NET: '10.78.4', LAB_DIR: dir, LAB_STYLE: 'agent', LAB_SYSTEM_CHECK: process.env.LAB_SYSTEM_CHECK ?? '1' }
const sh = (...a) => execFileSync('bash', [LAB, ...a], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
const stat = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return (Number(x[11]) + Number(x[12])) * 10
}
const kb = (pid, key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
const pidOf = (n) => Number(readFileSync(`${dir}/n${n}/agent.pid`, 'utf8'))

const original = {}
const originalConfig = {}
function apply(v) {
  for (const n of [1, 2]) {
    const config = `${dir}/n${n}/config.yaml`
    originalConfig[n] ??= readFileSync(config, 'utf8')
    writeFileSync(config, originalConfig[n])
    for (const e of v.sed) execFileSync('sed', ['-i', e, config])
    const launcher = `${dir}/n${n}/ha-agent`
    original[n] ??= readFileSync(launcher, 'utf8')
    // the launcher's `run` line is where the daemon's flags live; environment goes in front of it
    const text = original[n]
      .replace(/^HA_AGENT_RUN_FLAGS=.*$/m, `HA_AGENT_RUN_FLAGS='${v.flags.join(' ')}'${v.env.length ? `\nexport ${v.env.join(' ')}` : ''}`)
      .replace(/^HA_AGENT_JS=.*$/m, `HA_AGENT_JS=${dir}/bin-${v.label}/ha-agent.js`)
    writeFileSync(launcher, text)
  }
  cpSync(v.bundle ?? `${ROOT}dist`, `${dir}/bin-${v.label}`, { recursive: true, filter: (s) => !s.endsWith('.deb') })
  execFileSync('chmod', ['-R', 'a+rX', `${dir}/bin-${v.label}`])
}

try {
  sh('down')
} catch {}
process.stderr.write(`daemon-variants: lab ${prefix} up\n`)
sh('up')
const results = []
try {
  for (let r = 0; r < REPEAT; r++) {
    for (const v of variants) {
      sh('stop-agent', '1')
      sh('stop-agent', '2')
      await sleep(1500)
      apply(v)
      sh('start-agent', '1')
      sh('start-agent', '2')
      await sleep(WARMUP_S * 1000)
      const pids = [pidOf(1), pidOf(2)]
      const argv = readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8').split('\0').filter(Boolean)
      const c0 = pids.map(stat)
      const t0 = Date.now()
      await sleep(WINDOW_S * 1000)
      const ms = Date.now() - t0
      const row = {
        label: v.label,
        sed: v.sed.join(' '),
        round: r + 1,
        argv: argv.slice(1, argv.findIndex((a) => a.endsWith('ha-agent.js'))).join(' '),
        env: v.env.join(' '),
        window_s: WINDOW_S,
        load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
        nodes: pids.map((pid, i) => ({ cpu_percent: +((100 * (stat(pid) - c0[i])) / ms).toFixed(2), rss_mb: +(kb(pid, 'VmRSS') / 1024).toFixed(1), hwm_mb: +(kb(pid, 'VmHWM') / 1024).toFixed(1) })),
      }
      results.push(row)
      process.stderr.write(`daemon-variants: ${JSON.stringify(row)}\n`)
    }
  }
} finally {
  sh('down')
}
console.log('| variant | Node.js flags / env | node 1 CPU | node 1 RSS (peak) | node 2 CPU | node 2 RSS (peak) | load |')
console.log('| --- | --- | --- | --- | --- | --- | --- |')
for (const r of results) {
  const [a, b] = r.nodes
  console.log(`| ${r.label}${REPEAT > 1 ? ` #${r.round}` : ''} | ${[r.argv, r.env, r.sed && `config: ${r.sed}`].filter(Boolean).join(' ') || '-'} | ${a.cpu_percent} % | ${a.rss_mb} (${a.hwm_mb}) MB | ${b.cpu_percent} % | ${b.rss_mb} (${b.hwm_mb}) MB | ${r.load1} |`)
}
console.log(JSON.stringify(results))
