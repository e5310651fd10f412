#!/usr/bin/env node
// What one wake-up of a Node.js process costs on this host, with the daemon's
// Node.js flags (read from the launcher, src/launcher/ha-agent.sh): the floor
// under issue 24's CPU target. Three loops, each for WINDOW seconds at RATE
// wake-ups a second, CPU from process.cpuUsage() of the measuring process only:
//   timer     a timer fires, nothing else
//   exchange  a timer fires and one request/answer goes over a held TCP
//             connection to a server in another process, under a deadline
//             timer, as each of the daemon's probes on a held connection does
//   file      a timer fires and one small file is read (/proc/self/stat), as
//             the daemon's keepalived liveness check and state reads do
// Usage: node bench/wakeup-cost.mjs [RATE=100] [WINDOW=15] [--json]. No root needed.
import { execFileSync, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const LAUNCHER = fileURLToPath(new URL('../src/launcher/ha-agent.sh', import.meta.url))

if (process.argv[2] === 'serve') {
  // the other process: echoes every request
  const srv = net.createServer((s) => s.on('data', (d) => s.write(d))).listen(0, '127.0.0.1', () => process.send(srv.address().port))
} else if (process.argv[2] === 'measure') {
  const [, , , kind, port, rate, window] = process.argv
  const sock = kind === 'exchange' ? net.connect(Number(port), '127.0.0.1') : undefined
  if (sock) await new Promise((r) => sock.once('connect', r))
  const ask = () =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('no answer within 1000 ms')), 1000)
      sock.once('data', (d) => {
        clearTimeout(deadline)
        resolve(d)
      })
      sock.write('SELECT 1;\n')
    })
  const work = { timer: async () => {}, exchange: ask, file: async () => readFileSync('/proc/self/stat', 'utf8') }[kind]
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
  await sleep(1000) // past start-up
  const cpu0 = process.cpuUsage()
  const until = Date.now() + Number(window) * 1000
  let n = 0
  while (Date.now() < until) {
    await work()
    n++
    await sleep(1000 / Number(rate))
  }
  const c = process.cpuUsage(cpu0)
  process.stdout.write(JSON.stringify({ kind, n, cpu_ms_each: (c.user + c.system) / 1000 / n, user_ms_each: c.user / 1000 / n, sys_ms_each: c.system / 1000 / n }) + '\n')
  process.exit(0)
} else {
  const [rate = 100, window = 15] = process.argv.slice(2).filter((a) => !a.startsWith('--')).map(Number)
  const flags = /^HA_AGENT_RUN_FLAGS='([^']*)'/m.exec(readFileSync(LAUNCHER, 'utf8'))?.[1].split(' ').filter(Boolean) ?? []
  const server = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise((r) => server.once('message', r))
  const rows = []
  for (const kind of ['timer', 'exchange', 'file']) {
    const out = execFileSync(process.execPath, [...flags, fileURLToPath(import.meta.url), 'measure', kind, String(port), String(rate), String(window)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    rows.push(JSON.parse(out))
  }
  server.kill()
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
  const table = [
    `Node.js ${process.version}, flags: \`${flags.join(' ') || 'none'}\`; ${rate} wake-ups/s for ${window} s each; load average (1 min) ${load}.`,
    '',
    '| loop | wake-ups | CPU per wake-up | user | system |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.kind} | ${r.n} | ${r.cpu_ms_each.toFixed(3)} ms | ${r.user_ms_each.toFixed(3)} ms | ${r.sys_ms_each.toFixed(3)} ms |`),
  ].join('\n')
  if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, flags, rate, window_s: window, load1: Number(load), rows, table }))
  else {
    const [t, x, f] = rows.map((r) => r.cpu_ms_each)
    console.log(`${table}\n\nan exchange on a held connection adds ${(x - t).toFixed(3)} ms to a wake-up, a small file read ${(f - t).toFixed(3)} ms`)
  }
}
