// runChecks: the checks in parallel, one verdict, within the deadline whatever hangs.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { configuredChecks, runChecks, runCheck, CHECK_NAMES } from '../../src/checks/index.js'
import { misbehavingServer } from '../fixtures/procs.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-runchecks-'))
const hungSocket = join(dir, 'hung.sock')
const hungUnix = await misbehavingServer(hungSocket, () => {})
const hungTcp = await misbehavingServer(0, () => {})
t.teardown(async () => {
  await Promise.all([hungUnix.close(), hungTcp.close()])
  rmSync(dir, { recursive: true, force: true })
})

const everythingHangs = buildConfig(
  {
    checks: {
      timeout_ms: 400,
      haproxy: { socket: hungSocket, backends: [{ name: 'pgbouncers' }] },
      pgbouncer: { targets: [`127.0.0.1:${hungTcp.port}`, `127.0.0.1:${hungTcp.port}`], min_up: 1 },
      postgres: { url: `postgres://monitor@127.0.0.1:${hungTcp.port}/postgres` },
      system: { interface: 'lo', vips: [] },
    },
  },
  null,
  { env: {} },
)

t.test('configured checks in a stable order', async (t) => {
  t.same(configuredChecks(everythingHangs), CHECK_NAMES)
  t.same(configuredChecks(buildConfig({ checks: { system: { vips: [] } } }, null, { env: {} })), ['system'])
  t.same(configuredChecks(buildConfig({}, null, { env: {} })), [])
})

t.test('every probe hanging: the verdict still comes at the deadline, each reason specific', async (t) => {
  const v = await runChecks(everythingHangs)
  t.equal(v.healthy, false)
  t.equal(v.source, 'local')
  t.same(v.checks.map((c) => [c.name, c.status]), [
    ['haproxy', 'fail'],
    ['pgbouncer', 'fail'],
    ['postgres', 'fail'],
    ['system', 'pass'],
  ])
  const detail = Object.fromEntries(v.checks.map((c) => [c.name, c.detail]))
  t.match(detail.haproxy, /hung\.sock: no answer to "show (info|stat|info;show stat)" within 400 ms/)
  t.match(detail.pgbouncer, new RegExp(`0/2 PgBouncers answer \\(need 1\\): 127\\.0\\.0\\.1:${hungTcp.port}: no answer within 400 ms`))
  t.equal(detail.postgres, `SELECT 1 via 127.0.0.1:${hungTcp.port}: no connection within 400 ms`)
  // Each reason is the probe's own deadline, none the backstop's ("no result within"): every probe let go in time.
  for (const c of v.checks) t.notMatch(c.detail, /no result within/, `${c.name} honoured its deadline`)
})

t.test('timeoutMs overrides checks.timeout_ms; only picks checks; duplicates run once', async (t) => {
  const v = await runChecks(everythingHangs, { only: ['pgbouncer', 'system', 'pgbouncer'], timeoutMs: 150 })
  t.same(v.checks.map((c) => c.name), ['pgbouncer', 'system'])
  t.match(v.checks[0]!.detail, /no answer within 150 ms/)
})

t.test('only naming a check that is not configured: that check fails, saying so', async (t) => {
  const cfg = buildConfig({ checks: { system: { interface: 'lo' } } }, null, { env: {} })
  const v = await runChecks(cfg, { only: ['system', 'postgres'] })
  t.equal(v.healthy, false)
  t.match(v.checks[1], { name: 'postgres', status: 'fail', detail: 'postgres check is not configured (checks.postgres)' })
  t.equal(v.checks[0]!.status, 'pass')
  const single = await runCheck('haproxy', cfg, 100)
  t.match(single, { status: 'fail', detail: /not configured/ })
})

t.test('nothing configured: an empty verdict is healthy (nothing to fail)', async (t) => {
  const v = await runChecks(buildConfig({}, null, { env: {} }))
  t.same(v.checks, [])
  t.equal(v.healthy, true)
})
