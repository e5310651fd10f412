// `ha-agent run` as systemd runs it, against the real stack and a real receiver.
import t from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startStack } from '../fixtures/stack.js'
import { startReceiver } from '../fixtures/receiver.js'
import { runCli } from '../fixtures/cli.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'
import { freePort, waitFor } from '../fixtures/procs.js'

const stack = await startStack(t)
const rx = await startReceiver(t)
const apiPort = await freePort()
const extra = `api: { listen: "127.0.0.1:${apiPort}" }\nwebhooks:\n  - { name: ops, url: "${rx.url}", timeout_ms: 2000 }\n`
const config = stack.writeAgentConfig(extra)
// writeAgentConfig puts `api: { listen: null }` first; a later key would be a duplicate, so rewrite it.
writeFileSync(config, readFileSync(config, 'utf8').replace('api: { listen: null }\n', '').replace('log_level: warn', 'log_level: info').replace(/checks:\n  timeout_ms: 1000/, 'checks:\n  timeout_ms: 1000\n  interval_ms: 300\n  fall: 2\n  rise: 2'))
const trackFile = join(stack.dir, 'run', 'fault')
const api = `http://127.0.0.1:${apiPort}`

const daemon = runDaemon(t, config)
await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon start', 15_000)
await waitFor('track_file written', () => existsSync(trackFile) || undefined)

t.test('HTTP API: healthz, status, metrics', async (t) => {
  t.same(await (await fetch(`${api}/healthz`)).json(), { status: 'ok' })
  const status = await waitFor('healthy status', async () => {
    const s = await (await fetch(`${api}/status`)).json()
    return s.healthy ? s : undefined
  })
  t.match(status, { node: 'test-node', healthy: true, outbox: { pending: 0, dead: 0 }, peers: [], track_file: { fault: false } })
  t.same(status.checks.map((c: any) => c.name), ['haproxy', 'pgbouncer', 'postgres'])
  t.match(status.checks[0], { status: 'pass', latency_ms: Number, detail: String, checked_at: String })
  const metrics = await (await fetch(`${api}/metrics`)).text()
  for (const name of ['ha_agent_check_up{check="postgres"} 1', 'ha_agent_check_duration_seconds{check="haproxy"}', 'ha_agent_outbox_pending 0', 'ha_agent_track_file_fault 0', 'process_resident_memory_bytes', 'ha_agent_build_info{version=']) {
    t.ok(metrics.includes(name), name)
  }
  t.notOk(/^(?!#)(?!ha_agent_|process_|nodejs_)\w+/m.test(metrics), 'every metric is prefixed ha_agent_, except Node.js defaults under their usual names')
})

t.test('check and status go through the daemon', async (t) => {
  const r = await runCli(['check', '--json', '--config', config])
  t.equal(r.code, 0, r.stderr)
  t.equal(JSON.parse(r.stdout).source, 'daemon')
  const s = await runCli(['status', '--config', config])
  t.equal(s.code, 0)
  t.match(s.stdout, /test-node \(this\)/)
  t.match(s.stdout, /^postgres\s+pass/m)
  t.match(s.stdout, /outbox: 0 pending, 0 dead/)
  const j = await runCli(['status', '--json', '--config', config])
  t.equal(JSON.parse(j.stdout).node, 'test-node')
})

t.test('HAProxy SIGKILL: track_file 1 from the watch seeing the connection close, 0 after restart', async (t) => {
  t.equal(readFileSync(trackFile, 'utf8'), '0\n')
  const logged = daemon.logs().length
  const killedAt = performance.now()
  await stack.haproxy.kill()
  await waitFor('track_file 1', () => readFileSync(trackFile, 'utf8') === '1\n' || undefined, 5000, 2)
  const ms = performance.now() - killedAt
  // Reported, not asserted (the bench measures speed). What makes it fast is asserted:
  // the fault's reason is the HAProxy watch's held connection closing, not a probe.
  t.comment(`track_file flipped ${ms.toFixed(1)} ms after SIGKILL of HAProxy`)
  const fault = await waitFor('the fault logged', () => daemon.logs().slice(logged).find((l) => l.msg === 'local fault: track_file set to 1'), 5000)
  t.match(fault.reason, /^HAProxy gone: HAProxy closed the runtime API connection/)
  const r = await runCli(['check', '--only', 'haproxy', '--config', config])
  t.equal(r.code, 1, 'check reports the fault at once through the daemon')
  await stack.haproxy.start()
  await waitFor('track_file 0', () => readFileSync(trackFile, 'utf8') === '0\n' || undefined, 5000)
})

t.test('check.failed and check.recovered reach the webhook, debounced', async (t) => {
  const before = rx.delivered.length
  await Promise.all(stack.pgbouncers.map((p) => p.kill()))
  const failed = await waitFor('check.failed', () => rx.delivered.slice(before).find((r) => r.json().type === 'check.failed' && r.json().data.check === 'pgbouncer'), 15_000)
  t.match(failed.json().data, { node: 'test-node', check: 'pgbouncer', detail: /0\/3 PgBouncers answer/ })
  await Promise.all(stack.pgbouncers.map((p) => p.start()))
  await waitFor('check.recovered', () => rx.delivered.slice(before).find((r) => r.json().type === 'check.recovered' && r.json().data.check === 'pgbouncer'), 15_000)
  const types = rx.delivered.slice(before).map((r) => `${r.json().type}:${r.json().data.check}`)
  t.equal(types.filter((x) => x === 'check.failed:pgbouncer').length, 1, 'one failure report, not one per check run')
})

t.test('webhook test through the daemon', async (t) => {
  const r = await runCli(['webhook', 'test', '--config', config])
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.equal(r.stdout, 'ops: delivered\n')
  t.equal(rx.delivered.at(-1)!.json().type, 'agent.test')
  const bad = await runCli(['webhook', 'test', '--name', 'nope', '--config', config])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /no webhook named "nope" \(configured: ops\)/)
})

t.test('SIGHUP with a broken config: logged by key path, old config kept', async (t) => {
  const good = readFileSync(config, 'utf8')
  writeFileSync(config, good + 'checks_typo: 1\n')
  daemon.child.kill('SIGHUP')
  const line = await waitForLog(daemon, (l) => /config reload rejected/.test(l.msg ?? ''), 'reload rejected')
  t.match(line, { level: 'error', key: 'checks_typo', problem: 'unknown key' })
  t.same(await (await fetch(`${api}/healthz`)).json(), { status: 'ok' }, 'still serving')
  writeFileSync(config, good)
})

t.test('notify while the daemon runs is delivered within milliseconds', async (t) => {
  const before = rx.delivered.length
  const r = await runCli(['notify', 'INSTANCE', 'VI_1', 'MASTER', '250', '--config', config])
  t.equal(r.code, 0)
  const [got] = (await rx.waitForDelivered(before + 1)).slice(before)
  t.match(got!.json(), { type: 'vrrp.transition', data: { instance: 'VI_1', state: 'MASTER', source: 'notify' } })
  const latency = got!.at - Date.parse(got!.json().timestamp)
  t.comment(`transition recorded by notify -> webhook request received: ${latency.toFixed(1)} ms`)
  t.ok(latency < 2000, 'delivered promptly (fs.watch, not the safety poll)')
  await waitFor('status shows the instance', async () => {
    const s = await (await fetch(`${api}/status`)).json()
    return s.instances.find((i: any) => i.name === 'VI_1' && i.state === 'MASTER')
  })
})

t.test('kill -9 with events pending, notify while down, restart: all delivered, same ids', async (t) => {
  rx.setDefault(503)
  const before = rx.all.length
  await runCli(['notify', 'INSTANCE', 'VI_1', 'BACKUP', '249', '--config', config])
  await waitFor('a failed attempt', () => rx.all.length > before || undefined)
  const firstId = rx.all[before]!.headers['webhook-id']
  daemon.child.kill('SIGKILL')
  await daemon.exited
  await runCli(['notify', 'INSTANCE', 'VI_1', 'FAULT', '0', '--config', config])
  rx.setDefault(200)
  const deliveredBefore = rx.delivered.length
  const again = runDaemon(t, config)
  const got = (await rx.waitForDelivered(deliveredBefore + 2, 20_000)).slice(deliveredBefore)
  t.same(got.map((r) => r.json().data.state), ['BACKUP', 'FAULT'], 'in order')
  t.equal(got[0]!.headers['webhook-id'], firstId, 'the same webhook-id after the crash')
  const code = await again.stop('SIGTERM')
  t.equal(code, 0, `SIGTERM: clean exit 0 ${code === 0 ? '' : JSON.stringify(again.logs().slice(-4))}`)
  t.notOk(existsSync(join(stack.dir, 'run', 'agent.sock')), 'control socket removed')
})
