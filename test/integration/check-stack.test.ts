// `ha-agent check` as keepalived runs it (the built bundle, no daemon) against a
// real PostgreSQL, three PgBouncers and HAProxy.
import t from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { startStack } from '../fixtures/stack.js'
import { runCleanCli } from '../fixtures/stack-cli.js'
import { misbehavingServer, waitFor } from '../fixtures/procs.js'
import { haproxyCommand, parseShowStat } from '../../src/haproxy/index.js'

const stack = await startStack(t)
const config = stack.writeAgentConfig()
const cli = (args: string[]) => runCleanCli(args)
// Spawning a process and reading its pipes, on top of the contract's bound. These
// bounds tell "exits at its deadline" from "hangs on the socket"; how long the
// budget itself is, is asserted on the probe's own figure. A fresh Debian 13 under
// the suite's load once took 1186 ms for a 500 ms budget whose probe stopped at
// its deadline (Debian's Node.js booting slowly on a starved host): 300 ms of
// slack was a timing test, not a hang test.
const SPAWN_SLACK = 1000

/** The stack's config with checks.timeout_ms replaced. */
function writeSlowConfig(name: string, timeoutLine: string): string {
  const path = stack.writeAgentConfig('', name)
  writeFileSync(path, readFileSync(path, 'utf8').replace('  timeout_ms: 1000', timeoutLine))
  return path
}

async function serversUp(): Promise<number> {
  const rows = parseShowStat(await haproxyCommand(stack.haproxy.socket, 'show stat', 1000))
  return rows.filter((r) => r.pxname === 'pgbouncers' && r.type === 2 && r.status.startsWith('UP')).length
}

t.test('all healthy: exit 0, one line per check', async (t) => {
  await waitFor('3 servers UP', async () => (await serversUp()) === 3 || undefined)
  const r = await cli(['check', '--config', config])
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.stdout, /^haproxy\s+pass .*pgbouncers 3\/3 UP/m)
  t.match(r.stdout, /^pgbouncer\s+pass .*3\/3 PgBouncers answer/m)
  t.match(r.stdout, /^postgres\s+pass .*SELECT 1/m)
  const json = await cli(['check', '--json', '--config', config])
  const verdict = JSON.parse(json.stdout)
  t.equal(verdict.healthy, true)
  t.equal(verdict.source, 'local')
  t.same(verdict.checks.map((c: { name: string }) => c.name), ['haproxy', 'pgbouncer', 'postgres'])
})

t.test('--only and bad flags', async (t) => {
  const r = await cli(['check', '--only', 'pgbouncer', '--config', config])
  t.equal(r.code, 0)
  t.notMatch(r.stdout, /^haproxy/m)
  const bad = await cli(['check', '--only', 'pgbouncr', '--config', config])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /unknown check "pgbouncr".*valid: haproxy, pgbouncer, postgres, system/)
  const notConfigured = await cli(['check', '--only', 'system', '--config', config])
  t.equal(notConfigured.code, 1)
  t.match(notConfigured.stdout, /not configured/)
})

t.test('system check and PgBouncer admin stats through the built bundle', async (t) => {
  const extra = stack.writeAgentConfig('', 'system.yaml', {
    checks: '  system:\n    interface: lo\n    vips: ["127.0.0.1", "192.0.2.99"]',
    pgbouncer: '    admin: { user: monitor }',
  })
  const r = await cli(['check', '--json', '--config', extra])
  t.equal(r.code, 0, r.stdout + r.stderr)
  const v = JSON.parse(r.stdout)
  const byName = Object.fromEntries(v.checks.map((c: { name: string }) => [c.name, c]))
  t.match(byName.system, { status: 'pass', detail: 'interface lo up; holds 127.0.0.1', data: { vips_held: ['127.0.0.1'] } })
  t.match(byName.pgbouncer, { status: 'pass', detail: /^3\/3 PgBouncers answer \(need 1\), \d+ clients waiting$/, data: { clients_waiting: Number } })
})

t.test('a query that never ends: postgres fails at the deadline and the process exits', async (t) => {
  const sleepy = stack.writeAgentConfig('', 'sleepy.yaml')
  writeFileSync(sleepy, readFileSync(sleepy, 'utf8').replace(/(    url: .*)/, '$1\n    query: SELECT pg_sleep(30)'))
  const r = await cli(['check', '--only', 'postgres', '--timeout', '700', '--config', sleepy])
  t.equal(r.code, 1)
  t.match(r.stdout, /^postgres\s+fail .*SELECT pg_sleep\(30\) via 127\.0\.0\.1:\d+: no answer within \d+ ms/m)
  // a pg client that only end()s would keep the process alive until the server says goodbye (30 s)
  t.ok(r.ms < 700 + 200 + SPAWN_SLACK, `process exited after ${r.ms.toFixed(0)} ms`)
})

t.test('two of three PgBouncers down with min_up 1: healthy; all down: unhealthy', async (t) => {
  await stack.pgbouncers[0]!.kill()
  await stack.pgbouncers[1]!.kill()
  const some = await cli(['check', '--only', 'pgbouncer', '--config', config])
  t.equal(some.code, 0, some.stdout)
  t.match(some.stdout, /1\/3 PgBouncers answer .*down: .*ECONNREFUSED/)
  await stack.pgbouncers[2]!.kill()
  const none = await cli(['check', '--only', 'pgbouncer', '--config', config])
  t.equal(none.code, 1)
  t.match(none.stdout, /pgbouncer\s+fail .*0\/3 PgBouncers answer \(need 1\)/)
  await waitFor('HAProxy to mark all servers DOWN', async () => (await serversUp()) === 0 || undefined)
  const ha = await cli(['check', '--only', 'haproxy', '--config', config])
  t.equal(ha.code, 1)
  t.match(ha.stdout, /backend pgbouncers: 0\/3 servers UP, need 1/)
  await Promise.all(stack.pgbouncers.map((p) => p.start()))
  await waitFor('servers back UP', async () => (await serversUp()) === 3 || undefined)
})

t.test('PostgreSQL stopped behind healthy PgBouncers: only the postgres check fails', async (t) => {
  await stack.pg.kill()
  const r = await cli(['check', '--config', config])
  t.equal(r.code, 1)
  t.match(r.stdout, /^pgbouncer\s+pass/m)
  t.match(r.stdout, /^postgres\s+fail /m)
  await stack.pg.start()
  await waitFor('postgres back', async () => (await cli(['check', '--only', 'postgres', '--config', config])).code === 0 || undefined, 20_000, 200)
})

t.test('HAProxy killed: haproxy and postgres fail, reasons named', async (t) => {
  await stack.haproxy.kill()
  const r = await cli(['check', '--config', config])
  t.equal(r.code, 1)
  t.match(r.stdout, /^haproxy\s+fail .*HAProxy socket .*haproxy\.sock: connection refused/m)
  t.match(r.stdout, /^postgres\s+fail .*ECONNREFUSED/m)
  t.match(r.stdout, /^pgbouncer\s+pass /m, 'the PgBouncers behind it are fine')
  t.ok(r.ms < 1000 + 200 + SPAWN_SLACK, `took ${r.ms.toFixed(0)} ms`)
  rmSync(stack.haproxy.socket, { force: true })
  const missing = await cli(['check', '--only', 'haproxy', '--config', config])
  t.match(missing.stdout, /no such socket file/)
})

t.test('a socket that accepts and never answers: exit 1 within timeout + 200 ms', async (t) => {
  const hung = await misbehavingServer(stack.haproxy.socket, () => {})
  t.teardown(() => hung.close())
  const started = Date.now()
  const r = await cli(['check', '--only', 'haproxy', '--timeout', '500', '--config', config])
  t.equal(r.code, 1)
  // --timeout is the whole budget: loading the config comes out of it, the probes get the rest.
  t.match(r.stdout, /no answer to "show (info|stat|info;show stat)" within \d+ ms/)
  // The clock starts at exec: Node's boot and the config loading come out of the 500 ms.
  t.ok(Date.now() - started < 500 + 200 + SPAWN_SLACK, `took ${Date.now() - started} ms`)
  const inner = Number(/haproxy\s+fail\s+(\d+)ms/.exec(r.stdout)?.[1])
  t.ok(inner <= 500 + 50, `the probe stopped at its deadline (${inner} ms)`)
  // Without --timeout the budget is checks.timeout_ms, not a built-in 1000 ms: with 1500
  // the probe gets its time and names its reason instead of a bare "no verdict".
  const slow = writeSlowConfig('timeout-1500.yaml', '  timeout_ms: 1500')
  const byConfig = await cli(['check', '--only', 'haproxy', '--config', slow])
  t.equal(byConfig.code, 1)
  t.match(byConfig.stdout, /no answer to "show (info|stat|info;show stat)" within \d+ ms/, byConfig.stderr)
  t.ok(byConfig.ms > 1000 && byConfig.ms < 1500 + 200 + SPAWN_SLACK, `took ${byConfig.ms.toFixed(0)} ms`)
})

t.test('garbage on the socket is a failed result, not a crash', async (t) => {
  rmSync(stack.haproxy.socket, { force: true })
  const garbage = await misbehavingServer(stack.haproxy.socket, (c) => c.end('HTTP/1.0 200 OK\r\n\r\nhello'))
  t.teardown(() => garbage.close())
  const r = await cli(['check', '--only', 'haproxy', '--config', config])
  t.equal(r.code, 1)
  t.match(r.stdout, /not a "show (info|stat)" answer/)
})
