// /metrics of a real `ha-agent run`, checked with the real promtool, and scraped
// by a real Prometheus (Debian package `prometheus`) that loads the shipped alert
// rules and evaluates every dashboard expression. No HAProxy or databases: the
// daemon runs the `system` check, one webhook and one peer that never answer,
// and one VRRP instance recorded with `ha-agent notify`.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { runCli } from '../fixtures/cli.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'
import { freePort, killProc, startKeepalivedStandIn, startProc, waitFor } from '../fixtures/procs.js'
import {
  MONITORING_DIR, dashboardQueries, exposedNames, metricNames, parseExposition, promtool, samples, substituteGrafanaVars, value, type Exposition,
} from '../fixtures/prometheus.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-monitoring-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const apiPort = await freePort()
const deadPort = await freePort() // nothing listens: the webhook and the peer never answer
const config = join(dir, 'agent.yaml')
const keepalivedPidFile = join(dir, 'keepalived.pid')
startKeepalivedStandIn(t, dir, keepalivedPidFile)
writeFileSync(
  config,
  [
    'node: mon-node',
    `state_dir: ${join(dir, 'state')}`,
    `runtime_dir: ${join(dir, 'run')}`,
    'log_level: info',
    `api: { listen: "127.0.0.1:${apiPort}" }`,
    'checks:',
    '  interval_ms: 500',
    '  system: {}',
    // keepalived "runs": its pid file names a live process called keepalived, as on a node where it does
    `keepalived: { track_file: ${join(dir, 'run', 'fault')}, pid_file: ${keepalivedPidFile} }`,
    'webhooks:',
    `  - { name: ops, url: "http://127.0.0.1:${deadPort}/hooks/ops?token=whtok3n", timeout_ms: 300 }`,
    `peers: ["http://127.0.0.1:${deadPort}/peer-s3cr3t/?token=tok3n"]`,
    'cluster: { poll_interval_ms: 300, poll_timeout_ms: 200 }',
    '',
  ].join('\n'),
)
const api = `http://127.0.0.1:${apiPort}`
const daemon = runDaemon(t, config)
// tap's teardown does not run when the set-up below throws: never leave the daemon behind.
process.once('exit', () => {
  daemon.child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})
await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon start', 15_000)
const notify = await runCli(['notify', 'INSTANCE', 'VI_1', 'MASTER', '250', '--config', config])
if (notify.code !== 0) throw new Error(`notify failed: ${notify.stderr}`)

const scrape = async () => {
  const res = await fetch(`${api}/metrics`)
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`)
  return { text: await res.text(), contentType: res.headers.get('content-type') }
}
// Wait until every part has reported once: the instance, a check, a delivery attempt, a peer poll.
const first = await waitFor('a full /metrics', async () => {
  const { text } = await scrape()
  const e = parseExposition(text)
  const ready = samples(e, 'ha_agent_vrrp_state', { vrrp_instance: 'VI_1', state: 'MASTER' }).length &&
    samples(e, 'ha_agent_check_up', { check: 'system' }).length &&
    samples(e, 'ha_agent_webhook_deliveries_total', { webhook: 'ops', result: 'retry' }).some((s) => s.value > 0) &&
    samples(e, 'ha_agent_peer_up').length &&
    samples(e, 'ha_agent_transitions_total', { vrrp_instance: 'VI_1', state: 'MASTER' }).some((s) => s.value > 0)
  return ready ? text : undefined
}, 20_000, 200)
const exposition: Exposition = parseExposition(first)
const exposed = exposedNames(exposition)

t.test('promtool check metrics: the real /metrics is clean (parse and lint)', async (t) => {
  const { text, contentType } = await scrape()
  t.match(contentType, /^text\/plain; version=0\.0\.4/)
  const r = await promtool(['check', 'metrics'], text)
  t.equal(r.code, 0, `promtool check metrics: ${r.stdout}${r.stderr}`)
  t.equal((r.stdout + r.stderr).trim(), '', 'no lint findings')
})

t.test('labels and names as Prometheus expects them', async (t) => {
  const labelNames = new Set(exposition.samples.flatMap((s) => Object.keys(s.labels)))
  t.notOk(labelNames.has('instance'), 'no instance label')
  t.notOk(labelNames.has('job'), 'no job label')
  for (const name of exposition.types.keys()) t.match(name, /^(ha_agent_|process_|nodejs_)/, `${name}: ours are ha_agent_, Node's keep their names`)
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) t.ok(exposed.has(name), name)
  t.equal(value(exposition, 'ha_agent_vrrp_state', { vrrp_instance: 'VI_1', state: 'MASTER' }), 1)
  t.equal(value(exposition, 'ha_agent_vrrp_priority', { vrrp_instance: 'VI_1' }), 250)
  t.equal(value(exposition, 'ha_agent_transitions_total', { vrrp_instance: 'VI_1', state: 'MASTER' }), 1)
  t.equal(samples(exposition, 'ha_agent_build_info').length, 1)
  t.equal(value(exposition, 'ha_agent_peer_up', { peer: `http://127.0.0.1:${deadPort}` }), 0, 'the peer label is scheme://host:port')
  for (const secret of ['tok3n', 's3cr3t', 'whtok3n', '/hooks/']) t.notOk(first.includes(secret), `"${secret}" is not in /metrics`)
})

const rules = parse(readFileSync(join(MONITORING_DIR, 'ha-agent.rules.yml'), 'utf8'))
const alerts: Array<{ alert: string; expr: string; annotations: Record<string, string> }> = rules.groups.flatMap((g: any) => g.rules)
const dashboard = JSON.parse(readFileSync(join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8'))
const queries = dashboardQueries(dashboard)

t.test('every metric the alert rules and the dashboard use is in the real /metrics', async (t) => {
  const used = new Map<string, string>()
  for (const a of alerts) {
    for (const n of metricNames(a.expr)) used.set(n, `rule ${a.alert}`)
    for (const text of Object.values(a.annotations)) for (const n of text.match(/\bha_agent_\w+/g) ?? []) used.set(n, `rule ${a.alert} annotations`)
  }
  for (const q of queries) for (const n of metricNames(q.expr)) used.set(n, `dashboard ${q.where}`)
  for (const n of JSON.stringify(dashboard).match(/\bha_agent_\w+/g) ?? []) if (!used.has(n)) used.set(n, 'dashboard text')
  t.ok(used.size >= 25, `${used.size} names used`)
  for (const [n, where] of used) {
    if (n === 'up') continue // Prometheus's own
    t.ok(exposed.has(n), `${n} (${where}) is in /metrics`)
  }
})

t.test('a real Prometheus scrapes the daemon, loads the rules and answers every dashboard query', async (t) => {
  const promPort = await freePort()
  const job = 'ha-agent-test'
  writeFileSync(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(MONITORING_DIR, 'ha-agent.rules.yml')],
      scrape_configs: [{ job_name: job, static_configs: [{ targets: [`127.0.0.1:${apiPort}`] }] }],
    }),
  )
  const prom = startProc([
    '/usr/bin/prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
  ])
  t.teardown(() => killProc(prom, 'SIGTERM'))
  process.once('exit', () => prom.child.kill('SIGKILL'))
  const base = `http://127.0.0.1:${promPort}/api/v1`
  const query = async (q: string) => {
    const r = (await (await fetch(`${base}/query?query=${encodeURIComponent(q)}`)).json()) as any
    if (r.status !== 'success') throw new Error(`${q}: ${r.error}`)
    return r.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>
  }
  await waitFor('Prometheus scraping ha-agent', async () => {
    if (prom.child.exitCode !== null) throw new Error(`prometheus exited: ${prom.output()}`)
    return (await query(`ha_agent_vrrp_state{job="${job}"}`)).length > 0 || undefined
  }, 30_000, 250)

  const [master] = await query(`ha_agent_vrrp_state{job="${job}",state="MASTER"}`)
  t.same(master!.metric, { __name__: 'ha_agent_vrrp_state', job, instance: `127.0.0.1:${apiPort}`, vrrp_instance: 'VI_1', state: 'MASTER' }, 'instance is the target, no exported_ labels')

  const vars = { __rate_interval: '1m', __interval: '15s', __range: '1h', job, vrrp_instance: 'VI_1' }
  for (const q of queries) {
    const expr = substituteGrafanaVars(q.expr, vars)
    await t.resolves(query(expr), `${q.where}: ${expr.slice(0, 80)}`)
  }
  const stateCode = dashboard.panels.find((p: any) => p.title === 'Who holds the VIP').targets[0].expr
  const codes = await query(substituteGrafanaVars(stateCode, vars))
  t.same(codes.map((c) => [c.metric.instance, c.metric.vrrp_instance, c.value[1]]), [[`127.0.0.1:${apiPort}`, 'VI_1', '2']], '"Who holds the VIP" says MASTER')

  // Every rule evaluates without error against real data.
  const evaluated = await waitFor('every rule evaluated', async () => {
    const r = (await (await fetch(`${base}/rules`)).json()) as any
    const all = r.data.groups.flatMap((g: any) => g.rules)
    return all.length === alerts.length && all.every((x: any) => x.health !== 'unknown') ? all : undefined
  }, 15_000, 250)
  for (const r of evaluated) t.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? 'evaluates'}`)
  // The peer never answers: its rule matches the real series (pending: it waits 2m).
  const peerAlert = await waitFor('HaAgentPeerUnreachable pending', async () => {
    const [a] = await query(`ALERTS{alertname="HaAgentPeerUnreachable",job="${job}"}`)
    return a
  }, 15_000, 250)
  t.match(peerAlert.metric, { alertstate: 'pending', instance: `127.0.0.1:${apiPort}`, peer: `http://127.0.0.1:${deadPort}`, severity: 'warning' })
  t.same(await query(`ALERTS{alertname=~"HaAgentNoMaster|HaAgentTwoMasters|HaAgentDown|HaAgentAbsent"}`), [], 'one MASTER, daemon up: no pair alert')

  // keepalived stops (its pid file is gone): the last MASTER is not shown as a holder any more.
  rmSync(keepalivedPidFile)
  const down = await waitFor('keepalived down in Prometheus', async () => {
    const c = await query(substituteGrafanaVars(stateCode, vars))
    return c.length === 1 && c[0]!.value[1] === '0' ? c : undefined
  }, 15_000, 250)
  t.equal(down[0]!.metric.vrrp_instance, 'VI_1', '"Who holds the VIP" says keepalived down (0) for VI_1')
})
