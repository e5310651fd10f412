// Figures bench/run.mjs measures the same way in the host lab and in the booted
// lab (issue 24): a failure only the master sees -> the VIP on the backup, a
// partition between the agents -> the peer seen unreachable, and the daemon's
// cost on both nodes over one window. `lab` is run.mjs's Lab: sh(...) runs
// lab.sh, exec('n1', argv) runs in node 1's network namespace (a booted node
// lives in that namespace too), booted says which lab it is.
import { readFileSync, writeFileSync } from 'node:fs'
import YAML from 'yaml'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const quantile = (xs, q) => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b)
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN
}
export const median = (xs) => quantile(xs, 0.5)
const series = (runs) => ({ runs, median_ms: median(runs), max_ms: Math.max(...runs.filter(Number.isFinite)) })

/** The shipped flap damping (cluster.flap_max, flap_window_ms): the 5th track_file change within 60 s is held. */
const FLAP_MAX = 4
const FLAP_WINDOW_MS = 60_000

/**
 * Waits until node `n`'s daemon has room for `changes` more track_file changes
 * before flap damping holds one: a run measures a node that is not flapping
 * (the failover series before leave up to a dozen changes in the last minute,
 * and a held FAULT leaves the move to the vrrp_script's weight, fall 2 x 1 s).
 */
async function flapRoom(lab, n, changes) {
  for (const until = Date.now() + FLAP_WINDOW_MS + 5000; Date.now() < until; await sleep(1000)) {
    const recent = agentLog(lab, n, Date.now() - FLAP_WINDOW_MS).filter((l) => /track_file set to/.test(l.msg ?? ''))
    if (recent.length + changes <= FLAP_MAX) return
  }
}

/** Only the master loses the PgBouncers (and PostgreSQL behind them); the backup still reaches them. n runs. */
export async function localOnlySeries(lab, n) {
  const runs = []
  for (let i = 0; i < n; i++) {
    await lab.waitHolder(['1'], 60_000)
    await sleep(2500)
    await flapRoom(lab, 1, 2) // the fault (1) and its end (0)
    const at = Date.now()
    lab.exec('n1', ['iptables', '-A', 'OUTPUT', '-d', `${lab.net}.20`, '-j', 'DROP'])
    const moved = await lab.waitHolder(['2'], 20_000)
    runs.push(moved ? Date.now() - at : NaN)
    lab.exec('n1', ['iptables', '-D', 'OUTPUT', '-d', `${lab.net}.20`, '-j', 'DROP'])
    process.stderr.write(`bench: ${lab.label ?? lab.style} local-only failure #${i + 1}: ${runs.at(-1)} ms\n`)
    await lab.waitHolder(['1'], 60_000)
  }
  return series(runs)
}

/** The daemon's log lines of node `n` since `sinceMs`, parsed (pino JSON): the lab's file, or the node's journal. */
function agentLog(lab, n, sinceMs) {
  const text = lab.booted
    ? lab.sh('exec', String(n), 'journalctl', '-u', 'ha-agent', '-o', 'cat', '--no-pager', '-q', '--since', `@${Math.floor(sinceMs / 1000) - 1}`)
    : readFileSync(`${lab.dir}/n${n}/agent.log`, 'utf8')
  return text
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l.replace(/^<\d>/, ''))
      } catch {
        return undefined
      }
    })
    .filter((l) => l && Date.parse(l.time) >= sinceMs)
}

/**
 * The agents cut off from each other (every TCP packet between node 1 and node
 * 2 dropped in node 1's namespace; VRRP is not TCP and goes on): how long until
 * node 1's daemon says its peer is unreachable (its own log line's time), and
 * until it hears it again once healed. n runs.
 */
export async function peerPartitionSeries(lab, n) {
  const peer = `${lab.net}.12`
  const rules = [
    ['INPUT', '-s', peer, '-p', 'tcp', '-j', 'DROP'],
    ['OUTPUT', '-d', peer, '-p', 'tcp', '-j', 'DROP'],
  ]
  const seen = []
  const back = []
  for (let i = 0; i < n; i++) {
    await sleep(3000)
    const at = Date.now()
    for (const r of rules) lab.exec('n1', ['iptables', '-A', ...r])
    let lost
    for (const until = Date.now() + 15_000; !lost && Date.now() < until; await sleep(100)) lost = agentLog(lab, 1, at).find((l) => l.msg === 'peer unreachable')
    seen.push(lost ? Date.parse(lost.time) - at : NaN)
    const healed = Date.now()
    for (const r of rules) lab.exec('n1', ['iptables', '-D', ...r])
    let found
    for (const until = Date.now() + 30_000; !found && Date.now() < until; await sleep(100)) found = agentLog(lab, 1, healed).find((l) => l.msg === 'peer answers')
    back.push(found ? Date.parse(found.time) - healed : NaN)
    process.stderr.write(`bench: ${lab.label ?? lab.style} partition seen #${i + 1}: ${seen.at(-1)} ms (heard again after ${back.at(-1)} ms)\n`)
  }
  return { ...series(seen), heard_again: series(back) }
}

const kb = (status, key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN)

/**
 * What one node's daemon costs now: CPU ns so far and the RSS/HWM of its main
 * process (booted: its unit; host: its process), and how often its main thread
 * has slept and been woken (voluntary context switches: the event loop's
 * wake-ups, each one a timer, a socket or a file the loop waited for).
 */
function daemonNow(lab, n) {
  if (lab.booted) {
    const cpuNs = Number(lab.sh('exec', String(n), 'systemctl', 'show', 'ha-agent', '-p', 'CPUUsageNSec', '--value'))
    const pid = lab.sh('exec', String(n), 'systemctl', 'show', 'ha-agent', '-p', 'MainPID', '--value')
    const status = lab.sh('exec', String(n), 'cat', `/proc/${pid}/status`)
    const main = lab.sh('exec', String(n), 'cat', `/proc/${pid}/task/${pid}/status`)
    return { cpuNs, ...memoryOf(status), wakeups: kb(main, 'voluntary_ctxt_switches') }
  }
  const pid = Number(readFileSync(`${lab.dir}/n${n}/agent.pid`, 'utf8'))
  let stat, status, main
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
    main = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8')
  } catch (err) {
    // The lab goes down after this (and its logs with it): say here what the daemon's log ended with.
    let tail = ''
    try {
      tail = readFileSync(`${lab.dir}/n${n}/agent.log`, 'utf8').trimEnd().split('\n').slice(-15).join('\n')
    } catch {}
    throw new Error(`bench: node ${n}'s daemon (pid ${pid}) is gone: ${err.message}; ${lab.dir}/n${n}/agent.log ended:\n${tail}`)
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { cpuNs: (Number(f[11]) + Number(f[12])) * 1e7, ...memoryOf(status), wakeups: kb(main, 'voluntary_ctxt_switches') }
}

/** VmRSS and its peak, and what RSS is made of: anonymous (the process's own heap and stacks) and file-backed (node, libnode, ICU, OpenSSL: shared with every Node.js process). */
const memoryOf = (status) => ({ rss: kb(status, 'VmRSS') / 1024, hwm: kb(status, 'VmHWM') / 1024, anon: kb(status, 'RssAnon') / 1024, file: kb(status, 'RssFile') / 1024 })

/**
 * Both nodes' daemons over one window of `seconds`: CPU (booted: the unit's
 * cgroup, CPUUsageNSec, which holds the watchdog sidecar too; host: the
 * process's utime + stime) and RSS sampled every 5 s (median, max) and VmHWM;
 * at the end, RSS split into anonymous and file-backed (RssAnon, RssFile).
 */
export async function daemonsOverWindow(lab, seconds) {
  const t0 = Date.now()
  const start = [1, 2].map((n) => daemonNow(lab, n))
  const rss = [[], []]
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(Math.min(5000, Math.max(0, seconds * 1000 - (Date.now() - t0))))
    for (const n of [1, 2]) rss[n - 1].push(daemonNow(lab, n).rss)
  }
  const end = [1, 2].map((n) => daemonNow(lab, n))
  const ms = Date.now() - t0
  return {
    window_s: +(ms / 1000).toFixed(1),
    cpu_from: lab.booted ? 'the ha-agent unit cgroup (CPUUsageNSec)' : 'the daemon process (utime + stime)',
    nodes: [0, 1].map((i) => ({
      cpu_percent_of_core: +((100 * (end[i].cpuNs - start[i].cpuNs)) / 1e6 / ms).toFixed(2),
      wakeups_per_s: +(((end[i].wakeups - start[i].wakeups) * 1000) / ms).toFixed(1),
      rss_mb: +median(rss[i]).toFixed(1),
      rss_max_mb: +Math.max(...rss[i]).toFixed(1),
      peak_rss_mb: +end[i].hwm.toFixed(1),
      rss_anon_mb: +end[i].anon.toFixed(1),
      rss_file_mb: +end[i].file.toFixed(1),
    })),
  }
}

/**
 * Which part of the daemon costs what (issue 24): both nodes' config with one
 * part taken out, each variant measured like the steady state (both daemons,
 * one window), in the lab the bench measured its failovers in. `edit` changes
 * the parsed config (the yaml package's Document, so comments and the rest
 * stay as the lab wrote them).
 */
export const PARTS = [
  { part: 'shipped', change: 'none', edit: () => {} },
  { part: 'no-peers', change: '`peers: []` (no push stream, no peer polls)', edit: (c) => c.set('peers', []) },
  {
    part: 'no-databases',
    change: 'no `checks.pgbouncer`, no `checks.postgres`',
    edit: (c) => {
      c.deleteIn(['checks', 'pgbouncer'])
      c.deleteIn(['checks', 'postgres'])
    },
  },
  { part: 'rounds-2s', change: '`checks.interval_ms: 2000` (half the rounds)', edit: (c) => c.setIn(['checks', 'interval_ms'], 2000) },
  {
    part: 'at-rest',
    change: '`checks.interval_ms: 60000`, `peers: []` (timers, the HAProxy watch, the verdict file, GC)',
    edit: (c) => {
      c.setIn(['checks', 'interval_ms'], 60000)
      c.set('peers', [])
    },
  },
]

const configPath = (lab, n) => (lab.booted ? '/etc/ha-agent/config.yaml' : `${lab.dir}/n${n}/config.yaml`)
const readConfig = (lab, n) => (lab.booted ? lab.sh('exec', String(n), 'cat', configPath(lab, n)) + '\n' : readFileSync(configPath(lab, n), 'utf8'))
function writeConfig(lab, n, text) {
  // a booted node's file keeps its owner and mode (root:ha-agent 0640): written in place
  if (lab.booted) lab.sh('exec', String(n), 'sh', '-c', 'printf %s "$1" >"$2"', 'sh', text, configPath(lab, n))
  else writeFileSync(configPath(lab, n), text)
}

/** Both nodes' agents stopped, their configs set, and started again (node 2 first: node 1 is the master). */
function restartWith(lab, texts) {
  for (const n of [2, 1]) lab.sh('stop-agent', String(n))
  for (const n of [1, 2]) writeConfig(lab, n, texts[n - 1])
  for (const n of [2, 1]) lab.sh('start-agent', String(n))
}

/**
 * Each of PARTS over `seconds` after `warmupS`, rounds alternating `repeat`
 * times so that a host getting busier does not favour one variant; the shipped
 * config is put back at the end, and on any failure.
 */
export async function partsSeries(lab, { seconds, warmupS = 15, repeat = 1 }) {
  const original = [1, 2].map((n) => readConfig(lab, n))
  const rows = []
  try {
    for (let round = 1; round <= repeat; round++) {
      for (const p of PARTS) {
        const texts = original.map((text, i) => {
          const doc = YAML.parseDocument(text)
          if (doc.errors.length) throw new Error(`bench: node ${i + 1}'s config does not parse: ${doc.errors[0].message}`)
          p.edit(doc)
          return String(doc)
        })
        restartWith(lab, texts)
        await sleep(warmupS * 1000)
        const d = await daemonsOverWindow(lab, seconds)
        rows.push({ part: p.part, change: p.change, round, ...d })
        process.stderr.write(`bench: ${lab.label ?? lab.style} part ${p.part} #${round}: ${d.nodes.map((x) => `${x.cpu_percent_of_core} %, ${x.rss_mb} MB`).join('; ')}\n`)
      }
    }
  } finally {
    restartWith(lab, original)
  }
  return rows
}

/** PARTS as table rows: each variant's CPU per node (rounds joined), and what the part it removes costs (shipped less variant, medians). */
export function partsTable(host, booted) {
  const figureOf = (key) => (rows, part) => (rows ?? []).filter((r) => r.part === part).map((r) => r.nodes.map((x) => x[key]))
  const cpuOf = figureOf('cpu_percent_of_core')
  const cell = (rows, part) => {
    const runs = cpuOf(rows, part)
    const wakes = figureOf('wakeups_per_s')(rows, part)
    const w = wakes.every((r) => r.every(Number.isFinite)) ? ` (${[0, 1].map((i) => wakes.map((r) => r[i].toFixed(1)).join(', ')).join(' / ')} wake-ups/s)` : ''
    return runs.length ? [0, 1].map((i) => runs.map((r) => r[i].toFixed(2)).join(', ')).join(' / ') + ' %' + w : '-'
  }
  const nodeMedian = (rows, part) => median(cpuOf(rows, part).flat())
  const saves = (rows, part) => {
    if (!rows || part === 'shipped') return '-'
    const d = nodeMedian(rows, 'shipped') - nodeMedian(rows, part)
    return Number.isFinite(d) ? `${d.toFixed(2)} %` : '-'
  }
  const lines = ['| part taken out | change to both nodes\' config | host lab: node 1 / node 2 CPU (main thread wake-ups) | saves | booted: node 1 / node 2 CPU (main thread wake-ups) | saves |', '| --- | --- | --- | --- | --- | --- |']
  for (const p of PARTS) lines.push(`| ${p.part} | ${p.change} | ${cell(host, p.part)} | ${saves(host, p.part)} | ${cell(booted, p.part)} | ${saves(booted, p.part)} |`)
  return lines.join('\n')
}
