#!/usr/bin/env node
// `npm run bench`: ha-agent against the reference guide's own way, in the same
// lab, one figure at a time. Prints a table, writes bench/results/<stamp>.json and
// puts the run at the top of bench/RESULTS.md (older runs stay below).
// Needs root. BENCH_RUNS (default 5) sets the repetitions of each failover.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const LAB = `${ROOT}lab/lab.sh`
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const CHECKS = Number(process.env.BENCH_CHECKS ?? 100)
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 60)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const log = (m) => process.stderr.write(`bench: ${m}\n`)

if (process.getuid() !== 0) {
  console.error('bench: needs root (it runs the lab in network namespaces): sudo npm run bench')
  process.exit(1)
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN
}
const median = (xs) => quantile(xs, 0.5)

class Lab {
  constructor(style) {
    this.style = style
    this.prefix = `b${style[0]}${process.pid % 1000}`
    this.net = style === 'agent' ? '10.78.1' : '10.78.2'
    this.dir = `/run/ha-agent-lab-${this.prefix}`
    this.vip = `${this.net}.100`
    this.env = { ...process.env, LAB_PREFIX: this.prefix, LAB_NET: this.net, LAB_DIR: this.dir, LAB_STYLE: style }
  }
  sh(...args) {
    return execFileSync('bash', [LAB, ...args], { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  }
  exec(node, cmd, opts = {}) {
    return execFileSync('ip', ['netns', 'exec', `${this.prefix}-${node}`, ...cmd], { encoding: 'utf8', ...opts })
  }
  holder() {
    return this.sh('holder')
  }
  async waitHolder(want, timeoutMs = 30_000) {
    const until = Date.now() + timeoutMs
    while (Date.now() < until) {
      if (want.includes(this.holder())) return true
      await sleep(20)
    }
    return false
  }
  startProbe() {
    const file = `${this.dir}/bench-probe-${Date.now()}.jsonl`
    writeFileSync(file, '')
    const child = spawn('ip', ['netns', 'exec', `${this.prefix}-cl`, process.execPath, `${ROOT}lab/probe.mjs`, this.vip, '5432', '50', file], { stdio: 'ignore' })
    const rows = () => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    return {
      rows,
      async waitOkAfter(at, timeoutMs = 30_000) {
        const until = Date.now() + timeoutMs
        while (Date.now() < until) {
          if (rows().some((r) => r.ok && r.t >= at)) return true
          await sleep(20)
        }
        return false
      },
      outageSince(at) {
        const oks = rows().filter((r) => r.ok && r.done >= at - 1000).map((r) => r.done)
        let worst = 0
        for (let i = 1; i < oks.length; i++) worst = Math.max(worst, oks[i] - oks[i - 1])
        return worst
      },
      stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))),
    }
  }
  transitions() {
    const f = `${this.dir}/webhooks.jsonl`
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []
  }
}

/** One failover: inject, wait for the VIP on node 2 and a successful query, restore, wait for node 1. */
async function failover(lab, probe, inject, restore, holderAfter) {
  if (!(await lab.waitHolder(['1']))) throw new Error(`${lab.style}: VIP not on node 1 before the run`)
  await sleep(1500)
  const at = Date.now()
  inject()
  const moved = await lab.waitHolder(holderAfter, 30_000)
  const recovered = await probe.waitOkAfter(at, 30_000)
  await sleep(300)
  const outage = moved && recovered ? probe.outageSince(at) : NaN
  restore()
  await lab.waitHolder(['1'], 30_000)
  await sleep(1000)
  return outage
}

async function failoverSeries(lab, name, inject, restore, holderAfter) {
  const probe = lab.startProbe()
  await sleep(1000)
  const outages = []
  for (let i = 0; i < RUNS; i++) {
    const o = await failover(lab, probe, inject, restore, holderAfter)
    log(`${lab.style} ${name} #${i + 1}: ${o} ms`)
    outages.push(o)
  }
  await probe.stop()
  return { runs: outages, median_ms: median(outages), max_ms: Math.max(...outages) }
}

function cpuOf(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10 // utime + stime, ms (USER_HZ 100)
}
function rssOf(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024
}
function agentPid(lab, n) {
  // lab.sh records setsid's pid, which exec()s setpriv, which exec()s node: the same pid.
  return Number(readFileSync(`${lab.dir}/n${n}/agent.pid`, 'utf8'))
}

async function daemonCost(lab, seconds) {
  const pid = agentPid(lab, 1)
  const cpu0 = cpuOf(pid)
  const t0 = Date.now()
  await sleep(seconds * 1000)
  const cpuMs = cpuOf(pid) - cpu0
  return { rss_mb: +(rssOf(pid) / 1048576).toFixed(1), cpu_percent_of_core: +((100 * cpuMs) / (Date.now() - t0)).toFixed(2), window_s: seconds }
}

/** Wall time of n runs of a command inside node 1's namespace, timed by one driver process. */
function timeCommand(lab, argv, n) {
  const driver = `
    const { spawnSync } = require('node:child_process')
    const walls = []
    for (let i = 0; i < ${n}; i++) {
      const t = process.hrtime.bigint()
      spawnSync(${JSON.stringify(argv[0])}, ${JSON.stringify(argv.slice(1))}, { stdio: 'ignore' })
      walls.push(Number(process.hrtime.bigint() - t) / 1e6)
    }
    console.log(JSON.stringify(walls))`
  return JSON.parse(lab.exec('n1', [process.execPath, '-e', driver]))
}

function cpuPerRun(lab, argv, n) {
  // CPU of the children, from the kernel: run n times under one shell and read its children's times.
  const script = `for i in $(seq ${n}); do ${argv.map((a) => `'${a}'`).join(' ')} >/dev/null 2>&1; done; cat /proc/$$/stat`
  const stat = lab.exec('n1', ['bash', '-c', script])
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[13]) + Number(fields[14])) * 10) / n // cutime + cstime, ms per run
}

function spawnRate(seconds) {
  const read = () => Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'))
  return async () => {
    const a = read()
    await sleep(seconds * 1000)
    return +((read() - a) / seconds).toFixed(2)
  }
}

async function webhookLatency(lab, style, n) {
  const lat = []
  for (let i = 0; i < n; i++) {
    const before = lab.transitions().length
    const state = i % 2 ? 'BACKUP' : 'MASTER'
    if (style === 'agent') {
      lab.exec('n1', ['setpriv', '--reuid=ha-agent', '--regid=ha-agent', '--init-groups', '--', `${lab.dir}/n1/ha-agent`, 'notify', 'INSTANCE', 'BENCH', state, '1'])
    } else {
      lab.exec('n1', [`${lab.dir}/n1/notify.sh`, 'INSTANCE', 'BENCH', state, '1'])
    }
    const until = Date.now() + 10_000
    let got
    while (Date.now() < until && !(got = lab.transitions().slice(before).find((w) => w.body?.data?.instance === 'BENCH'))) await sleep(2)
    if (got) lat.push(got.at - Date.parse(got.body.timestamp))
  }
  return { n: lat.length, median_ms: median(lat), p99_ms: quantile(lat, 0.99) }
}

/** ha-agent's notify_fifo path: a line written to the FIFO as keepalived writes it -> the webhook request. */
async function webhookLatencyFifo(n) {
  const lab = new Lab('agent')
  lab.prefix = `bf${process.pid % 1000}`
  lab.net = '10.78.3'
  lab.dir = `/run/ha-agent-lab-${lab.prefix}`
  lab.vip = `${lab.net}.100`
  lab.env = { ...lab.env, LAB_PREFIX: lab.prefix, LAB_NET: lab.net, LAB_DIR: lab.dir, LAB_NOTIFY: 'fifo' }
  try {
    lab.sh('down')
  } catch {}
  lab.sh('up')
  const lat = []
  try {
    await lab.waitHolder(['1'])
    await sleep(2000)
    const fifo = `${lab.dir}/n1/run/keepalived.fifo`
    for (let i = 0; i < n; i++) {
      const before = lab.transitions().length
      const wrote = Date.now()
      writeFileSync(fifo, `INSTANCE "BENCH" ${i % 2 ? 'BACKUP' : 'MASTER'} 1\n`, { flag: 'a' })
      const until = Date.now() + 10_000
      let got
      while (Date.now() < until && !(got = lab.transitions().slice(before).find((w) => w.body?.data?.instance === 'BENCH'))) await sleep(1)
      if (got) lat.push(got.at - wrote)
    }
  } finally {
    lab.sh('down')
  }
  return { n: lat.length, median_ms: median(lat), p99_ms: quantile(lat, 0.99) }
}

async function partition(lab) {
  // Only the master loses the PgBouncers (and PostgreSQL behind them); the backup still reaches them.
  await lab.waitHolder(['1'])
  await sleep(1500)
  const at = Date.now()
  lab.exec('n1', ['iptables', '-A', 'OUTPUT', '-d', `${lab.net}.20`, '-j', 'DROP'])
  const moved = await lab.waitHolder(['2'], 20_000)
  const ms = moved ? Date.now() - at : null
  lab.exec('n1', ['iptables', '-D', 'OUTPUT', '-d', `${lab.net}.20`, '-j', 'DROP'])
  await lab.waitHolder(['1'], 30_000)
  return { ms, note: moved ? 'VIP moved to the backup' : 'VIP never moved (waited 20 s)' }
}

async function benchStyle(style) {
  const lab = new Lab(style)
  try {
    lab.sh('down')
  } catch {}
  log(`${style}: lab up (${lab.prefix})`)
  lab.sh('up')
  await lab.waitHolder(['1'])
  const r = { style }
  try {
    r.haproxy_death = await failoverSeries(lab, 'HAProxy SIGKILL', () => lab.sh('kill-haproxy', '1'), () => lab.sh('start-haproxy', '1'), ['2'])
    r.node_loss_keepalived = await failoverSeries(lab, 'keepalived SIGKILL', () => lab.sh('kill-keepalived', '1'), () => lab.sh('start-keepalived', '1'), ['2', 'both'])
    r.node_loss_link = await failoverSeries(lab, 'link cut', () => lab.sh('cut', '1'), () => lab.sh('heal', '1'), ['2', 'both'])
    r.partition_master_only = await partition(lab)
    log(`${style}: partition ${JSON.stringify(r.partition_master_only)}`)
    const checkArgv = style === 'agent' ? [`${lab.dir}/n1/ha-agent`, 'check'] : [`${lab.dir}/n1/chk_haproxy.sh`]
    const walls = timeCommand(lab, checkArgv, CHECKS)
    r.check = { wall_median_ms: +median(walls).toFixed(1), wall_p99_ms: +quantile(walls, 0.99).toFixed(1), cpu_ms_per_run: +cpuPerRun(lab, checkArgv, Math.min(CHECKS, 50)).toFixed(1), runs: CHECKS }
    log(`${style}: check ${JSON.stringify(r.check)}`)
    r.spawns_per_second = await spawnRate(10)()
    r.webhook = await webhookLatency(lab, style, 50)
    log(`${style}: webhook ${JSON.stringify(r.webhook)}`)
    if (style === 'agent') {
      r.daemon_idle = await daemonCost(lab, IDLE_S)
      log(`agent: daemon idle ${JSON.stringify(r.daemon_idle)}`)
      execFileSync('sed', ['-i', 's/^  interval_ms: 500/  interval_ms: 100/', `${lab.dir}/n1/config.yaml`])
      lab.sh('stop-agent', '1')
      await sleep(1000)
      lab.sh('start-agent', '1')
      await sleep(3000)
      r.daemon_interval_100ms = await daemonCost(lab, IDLE_S)
      log(`agent: daemon at interval 100 ms ${JSON.stringify(r.daemon_interval_100ms)}`)
    }
  } finally {
    lab.sh('down')
  }
  return r
}

const started = new Date()
const agent = await benchStyle('agent')
agent.webhook_fifo = await webhookLatencyFifo(50)
log(`agent: webhook via notify_fifo ${JSON.stringify(agent.webhook_fifo)}`)
const guide = await benchStyle('guide')
const ratio = (a, g) => (Number.isFinite(a) && Number.isFinite(g) && g > 0 ? +(a / g).toFixed(3) : null)
const result = {
  date: started.toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, mem_gb: +(totalmem() / 2 ** 30).toFixed(1), kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version, keepalived: execFileSync('keepalived', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0] || 'keepalived' },
  runs: RUNS,
  agent,
  guide,
  ratios: {
    haproxy_death_median: ratio(agent.haproxy_death.median_ms, guide.haproxy_death.median_ms),
    node_loss_keepalived_median: ratio(agent.node_loss_keepalived.median_ms, guide.node_loss_keepalived.median_ms),
    node_loss_link_median: ratio(agent.node_loss_link.median_ms, guide.node_loss_link.median_ms),
    check_wall_median: ratio(agent.check.wall_median_ms, guide.check.wall_median_ms),
    webhook_median: ratio(agent.webhook.median_ms, guide.webhook.median_ms),
  },
}

const target = (ok) => (ok ? 'met' : 'MISSED')
const rows = [
  ['HAProxy death: outage median / max', `${agent.haproxy_death.median_ms} / ${agent.haproxy_death.max_ms} ms`, `${guide.haproxy_death.median_ms} / ${guide.haproxy_death.max_ms} ms`, `<= 1000 ms and <= 1/4 of guide: ${target(agent.haproxy_death.median_ms <= 1000 && agent.haproxy_death.median_ms <= guide.haproxy_death.median_ms / 4)}`],
  ['node loss (keepalived killed): median / max', `${agent.node_loss_keepalived.median_ms} / ${agent.node_loss_keepalived.max_ms} ms`, `${guide.node_loss_keepalived.median_ms} / ${guide.node_loss_keepalived.max_ms} ms`, `<= 1500 ms: ${target(agent.node_loss_keepalived.median_ms <= 1500)}`],
  ['node loss (link cut): median / max', `${agent.node_loss_link.median_ms} / ${agent.node_loss_link.max_ms} ms`, `${guide.node_loss_link.median_ms} / ${guide.node_loss_link.max_ms} ms`, `<= 1500 ms: ${target(agent.node_loss_link.median_ms <= 1500)}`],
  ['partition only the master sees -> VIP on backup', agent.partition_master_only.ms === null ? 'never' : `${agent.partition_master_only.ms} ms`, guide.partition_master_only.ms === null ? 'never' : `${guide.partition_master_only.ms} ms`, ''],
  ['check: wall median / p99', `${agent.check.wall_median_ms} / ${agent.check.wall_p99_ms} ms`, `${guide.check.wall_median_ms} / ${guide.check.wall_p99_ms} ms`, `median < 100 ms: ${target(agent.check.wall_median_ms < 100)}`],
  ['check: CPU per run', `${agent.check.cpu_ms_per_run} ms`, `${guide.check.cpu_ms_per_run} ms`, ''],
  ['processes spawned per second (whole host, idle lab)', `${agent.spawns_per_second}`, `${guide.spawns_per_second}`, 'track_file path spawns none; see notes'],
  ['daemon idle: RSS / CPU', `${agent.daemon_idle.rss_mb} MB / ${agent.daemon_idle.cpu_percent_of_core} %`, '-', `< 80 MB, < 1 %: ${target(agent.daemon_idle.rss_mb < 80 && agent.daemon_idle.cpu_percent_of_core < 1)}`],
  ['daemon at interval 100 ms: RSS / CPU', `${agent.daemon_interval_100ms.rss_mb} MB / ${agent.daemon_interval_100ms.cpu_percent_of_core} %`, '-', ''],
  ['transition -> webhook request: median / p99 (n=50), notify script', `${agent.webhook.median_ms} / ${agent.webhook.p99_ms} ms`, `${guide.webhook.median_ms} / ${guide.webhook.p99_ms} ms`, `median < 200 ms: ${target(agent.webhook.median_ms < 200)}`],
  ['transition -> webhook request: median / p99 (n=50), notify_fifo', `${agent.webhook_fifo.median_ms} / ${agent.webhook_fifo.p99_ms} ms`, '-', `median < 200 ms: ${target(agent.webhook_fifo.median_ms < 200)}`],
]
const table = ['| figure | ha-agent | guide | target |', '| --- | --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
console.log(table)

mkdirSync(`${ROOT}bench/results`, { recursive: true })
const stamp = started.toISOString().replace(/[:.]/g, '-')
writeFileSync(`${ROOT}bench/results/${stamp}.json`, JSON.stringify(result, null, 2) + '\n')
const md = `${ROOT}bench/RESULTS.md`
const older = existsSync(md) ? readFileSync(md, 'utf8').replace(/^# Benchmark results\n+/, '') : ''
const m = result.machine
const section = `## ${result.date} (${m.cpus} x ${m.cpu}, ${m.mem_gb} GiB, Linux ${m.kernel}, Node.js ${m.node}, ${m.keepalived})\n\n\`sudo npm run bench\`, ${RUNS} runs per failover, ${CHECKS} checks, ${IDLE_S} s daemon windows. Raw: \`bench/results/${stamp}.json\`.\n\n${table}\n\n`
writeFileSync(md, `# Benchmark results\n\n${section}${older}`)
log(`wrote bench/results/${stamp}.json and bench/RESULTS.md`)
