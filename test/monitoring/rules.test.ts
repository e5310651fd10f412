// monitoring/ha-agent.rules.yml with the real promtool (Debian package `prometheus`).
import t from 'tap'
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { createMetrics } from '../../src/api/metrics.js'
import { MONITORING_DIR, asRecordingRules, exposedNames, metricNames, parseExposition, promtool, templateQueries } from '../fixtures/prometheus.js'
import { fakeSnapshot } from '../fixtures/snapshot.js'

const RULES = join(MONITORING_DIR, 'ha-agent.rules.yml')
const TESTS = join(MONITORING_DIR, 'ha-agent.rules.test.yml')
const rules = parse(readFileSync(RULES, 'utf8'))
const alerts: Array<{ alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> = rules.groups.flatMap((g: any) => g.rules)

t.test('promtool check rules', async (t) => {
  const r = await promtool(['check', 'rules', RULES])
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.stdout, `SUCCESS: ${alerts.length} rules found`)
})

t.test('promtool test rules: every alert fires and stays quiet where it should', async (t) => {
  const r = await promtool(['test', 'rules', TESTS])
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.stdout, /SUCCESS/)

  const cases = parse(readFileSync(TESTS, 'utf8')).tests.flatMap((c: any) => c.alert_rule_test ?? [])
  for (const a of alerts) {
    t.ok(cases.some((c: any) => c.alertname === a.alert && c.exp_alerts?.length), `${a.alert}: a case where it fires`)
    t.ok(cases.some((c: any) => c.alertname === a.alert && Array.isArray(c.exp_alerts) && c.exp_alerts.length === 0), `${a.alert}: a case where it does not`)
  }
  t.notMatch(readFileSync(TESTS, 'utf8'), /<no value>/, 'no annotation renders a label the alert does not have')
})

t.test('every alert: a severity, a summary and a description', async (t) => {
  t.ok(alerts.length >= 10)
  for (const a of alerts) {
    t.match(a.alert, /^HaAgent[A-Z]\w+$/, `${a.alert}: named HaAgent...`)
    t.match(a.labels?.severity, /^(critical|warning)$/, `${a.alert}: severity`)
    t.ok(a.annotations?.summary && a.annotations?.description, `${a.alert}: summary and description`)
  }
  const names = alerts.map((a) => a.alert)
  t.equal(new Set(names).size, names.length, 'alert names are unique')
  for (const needed of ['HaAgentVrrpFault', 'HaAgentNoMaster', 'HaAgentTwoMasters', 'HaAgentSplitBrain', 'HaAgentCheckFailing', 'HaAgentDeadLetters', 'HaAgentDeadLettersGrowing', 'HaAgentKeepalivedDown', 'HaAgentDown', 'HaAgentAbsent', 'HaAgentOutboxSpooled', 'HaAgentOutboxFull', 'HaAgentConfigReloadFailed']) {
    t.ok(names.includes(needed), needed)
  }
})

t.test('the VRRP instance is vrrp_instance; instance is only ever the scrape target', async (t) => {
  for (const a of alerts) {
    t.notMatch(a.expr, /exported_instance|exported_job/, `${a.alert}: no exported_ labels`)
    // `instance` may appear only to match a node (on/ignoring lists), never in a selector.
    t.notMatch(a.expr, /[{,]\s*instance\s*[=!~]/, `${a.alert}: no instance matcher`)
  }
})

t.test('the queries inside annotation templates are valid PromQL', async (t) => {
  const queries = alerts.flatMap((a) => Object.values(a.annotations ?? {}).flatMap((text) => templateQueries(text).map((expr) => ({ where: a.alert, expr }))))
  t.ok(queries.length >= 3, `${queries.length} template queries`)
  const dir = mkdtempSync(join(tmpdir(), 'ha-rules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'q.yml'), asRecordingRules(queries))
  const r = await promtool(['check', 'rules', join(dir, 'q.yml')])
  t.equal(r.code, 0, r.stdout + r.stderr)
})

t.test('every ha_agent_ metric the rules name is one ha-agent exposes', async (t) => {
  const exposed = exposedNames(parseExposition(await createMetrics(fakeSnapshot).registry.metrics()))
  const used = new Set<string>()
  for (const a of alerts) {
    for (const n of metricNames(a.expr)) used.add(n)
    for (const text of Object.values(a.annotations ?? {})) for (const n of text.match(/\bha_agent_\w+/g) ?? []) used.add(n)
  }
  t.ok(used.has('ha_agent_vrrp_state') && used.has('up'), 'the extraction finds names')
  for (const n of used) if (n !== 'up') t.ok(exposed.has(n), `${n} is exposed`)
})
