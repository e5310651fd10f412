// monitoring/grafana-dashboard.json: its shape as Grafana imports it, and every
// expression valid PromQL (promtool) over metrics ha-agent exposes.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMetrics } from '../../src/api/metrics.js'
import { MONITORING_DIR, asRecordingRules, dashboardQueries, exposedNames, metricNames, parseExposition, promtool, substituteGrafanaVars } from '../fixtures/prometheus.js'
import { fakeSnapshot } from '../fixtures/snapshot.js'

const dashboard = JSON.parse(readFileSync(join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8'))
const queries = dashboardQueries(dashboard)
const allPanels = (panels: any[] = []): any[] => panels.flatMap((p) => [p, ...allPanels(p.panels)])
const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row')

t.test('metricNames: the helper the checks below rely on', async (t) => {
  t.same(metricNames('sum by (job, instance) (rate(foo_total{a="b",c=~"x|y"}[5m])) / on (job) group_left (version) bar_info'), ['foo_total', 'bar_info'])
  t.same(metricNames('time() - process_start_time_seconds{job="$job"} > bool 1e3 unless up == 0'), ['process_start_time_seconds', 'up'])
  t.same(metricNames('label_replace(x, "dst", "$1", "src", "(.*)") or vector(0)'), ['x'])
})

t.test('what Grafana needs to import it anywhere', async (t) => {
  t.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`)
  t.match(dashboard.uid, /^[\w-]{1,40}$/)
  t.ok(dashboard.title)
  t.equal(dashboard.id ?? null, null, 'no database id')
  const vars = Object.fromEntries(dashboard.templating.list.map((v: any) => [v.name, v]))
  t.match(vars.datasource, { type: 'datasource', query: 'prometheus' }, 'a data source variable, no hard-coded data source')
  t.match(vars.job, { type: 'query', definition: /ha_agent_build_info/ }, 'a job variable: one pair per job')
  const ids = panels.map((p) => p.id)
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique')

  const used = new Set<string>()
  for (const p of panels) {
    t.same(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `"${p.title}": the data source variable`)
    t.ok(p.targets?.length, `"${p.title}": has queries`)
    for (const q of p.targets ?? []) {
      t.same(q.datasource, { type: 'prometheus', uid: '${datasource}' }, `"${p.title}" ${q.refId}: the data source variable`)
      t.match(q.expr, /job="\$job"/, `"${p.title}" ${q.refId}: scoped to the selected pair`)
    }
    t.ok(p.description, `"${p.title}": says what it shows`)
    const g = p.gridPos
    t.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `"${p.title}": within the 24 columns`)
    for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
      const cell = `${x},${y}`
      if (used.has(cell)) t.fail(`"${p.title}" overlaps another panel at ${cell}`)
      used.add(cell)
    }
  }
  for (const row of allPanels(dashboard.panels).filter((p) => p.type === 'row')) {
    for (let x = 0; x < 24; x++) t.notOk(used.has(`${x},${row.gridPos.y}`), `row "${row.title}" has its own line`)
  }
})

t.test('the pair at a glance: the metrics the issue asks for are on it', async (t) => {
  const used = new Set(queries.flatMap((q) => metricNames(q.expr)))
  for (const m of [
    'ha_agent_vrrp_state', 'ha_agent_transitions_total', 'ha_agent_vrrp_priority', 'ha_agent_check_up', 'ha_agent_check_duration_seconds',
    'ha_agent_outbox_pending', 'ha_agent_outbox_dead', 'ha_agent_webhook_pending', 'ha_agent_webhook_dead_letters', 'ha_agent_outbox_spooled',
    'ha_agent_peer_up', 'ha_agent_split_brain', 'ha_agent_keepalived_up', 'ha_agent_track_file_fault', 'ha_agent_webhook_deliveries_total',
    'process_cpu_seconds_total', 'process_resident_memory_bytes', 'up',
  ]) t.ok(used.has(m), `${m} is shown`)
  t.ok(panels.some((p) => p.type === 'state-timeline' && p.targets.some((q: any) => /ha_agent_vrrp_state/.test(q.expr))), 'VRRP state per node over time')
})

t.test('every expression is valid PromQL (promtool check rules)', async (t) => {
  t.ok(queries.length >= 30, `${queries.length} expressions`)
  const dir = mkdtempSync(join(tmpdir(), 'ha-dash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const plain = queries.map((q) => ({ ...q, expr: substituteGrafanaVars(q.expr) }))
  writeFileSync(join(dir, 'dashboard.rules.yml'), asRecordingRules(plain))
  const r = await promtool(['check', 'rules', join(dir, 'dashboard.rules.yml')])
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.stdout, `SUCCESS: ${queries.length} rules found`)

  // The check can fail: a broken expression is caught.
  writeFileSync(join(dir, 'broken.rules.yml'), asRecordingRules([{ where: 'test', expr: 'sum by (job (ha_agent_healthy)' }]))
  t.not((await promtool(['check', 'rules', join(dir, 'broken.rules.yml')])).code, 0, 'a syntax error fails the check')
})

t.test('every metric the dashboard uses is one ha-agent exposes', async (t) => {
  const exposed = exposedNames(parseExposition(await createMetrics(fakeSnapshot).registry.metrics()))
  const text = JSON.stringify(dashboard)
  const used = new Set([...queries.flatMap((q) => metricNames(q.expr)), ...(text.match(/\bha_agent_\w+/g) ?? [])])
  for (const n of used) if (n !== 'up') t.ok(exposed.has(n), `${n} is exposed`)
})
