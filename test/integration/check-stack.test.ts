// `ha-agent check` as keepalived runs it (the built bundle, no daemon) against a
// real PostgreSQL, three PgBouncers and HAProxy.
import t from 'tap'
import { rmSync } from 'node:fs'
import { startStack } from '../fixtures/stack.js'
import { runCli } from '../fixtures/cli.js'
import { misbehavingServer, waitFor } from '../fixtures/procs.js'
import { haproxyCommand, parseShowStat } from '../../src/haproxy/index.js'

const stack = await startStack(t)
const config = stack.writeAgentConfig()

async function serversUp(): Promise<number> {
  const rows = parseShowStat(await haproxyCommand(stack.haproxy.socket, 'show stat', 1000))
  return rows.filter((r) => r.pxname === 'pgbouncers' && r.type === 2 && r.status.startsWith('UP')).length
}

t.test('all healthy: exit 0, one line per check', async (t) => {
  await waitFor('3 servers UP', async () => (await serversUp()) === 3 || undefined)
  const r = await runCli(['check', '--config', config])
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.stdout, /^haproxy\s+pass .*pgbouncers 3\/3 UP/m)
  t.match(r.stdout, /^pgbouncer\s+pass .*3\/3 PgBouncers answer/m)
  t.match(r.stdout, /^postgres\s+pass .*SELECT 1/m)
  const json = await runCli(['check', '--json', '--config', config])
  const verdict = JSON.parse(json.stdout)
  t.equal(verdict.healthy, true)
  t.equal(verdict.source, 'local')
  t.same(verdict.checks.map((c: { name: string }) => c.name), ['haproxy', 'pgbouncer', 'postgres'])
})

t.test('--only and bad flags', async (t) => {
  const r = await runCli(['check', '--only', 'pgbouncer', '--config', config])
  t.equal(r.code, 0)
  t.notMatch(r.stdout, /^haproxy/m)
  const bad = await runCli(['check', '--only', 'pgbouncr', '--config', config])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /unknown check "pgbouncr".*valid: haproxy, pgbouncer, postgres, system/)
  const notConfigured = await runCli(['check', '--only', 'system', '--config', config])
  t.equal(notConfigured.code, 1)
  t.match(notConfigured.stdout, /not configured/)
})

t.test('two of three PgBouncers down with min_up 1: healthy; all down: unhealthy', async (t) => {
  await stack.pgbouncers[0]!.kill()
  await stack.pgbouncers[1]!.kill()
  const some = await runCli(['check', '--only', 'pgbouncer', '--config', config])
  t.equal(some.code, 0, some.stdout)
  t.match(some.stdout, /1\/3 PgBouncers answer .*down: .*ECONNREFUSED/)
  await stack.pgbouncers[2]!.kill()
  const none = await runCli(['check', '--only', 'pgbouncer', '--config', config])
  t.equal(none.code, 1)
  t.match(none.stdout, /pgbouncer\s+fail .*0\/3 PgBouncers answer \(need 1\)/)
  await waitFor('HAProxy to mark all servers DOWN', async () => (await serversUp()) === 0 || undefined)
  const ha = await runCli(['check', '--only', 'haproxy', '--config', config])
  t.equal(ha.code, 1)
  t.match(ha.stdout, /backend pgbouncers: 0\/3 servers UP, need 1/)
  await Promise.all(stack.pgbouncers.map((p) => p.start()))
  await waitFor('servers back UP', async () => (await serversUp()) === 3 || undefined)
})

t.test('PostgreSQL stopped behind healthy PgBouncers: only the postgres check fails', async (t) => {
  await stack.pg.kill()
  const r = await runCli(['check', '--config', config])
  t.equal(r.code, 1)
  t.match(r.stdout, /^pgbouncer\s+pass/m)
  t.match(r.stdout, /^postgres\s+fail /m)
  await stack.pg.start()
  await waitFor('postgres back', async () => (await runCli(['check', '--only', 'postgres', '--config', config])).code === 0 || undefined, 20_000, 200)
})

t.test('HAProxy killed: haproxy and postgres fail, reasons named', async (t) => {
  await stack.haproxy.kill()
  const r = await runCli(['check', '--config', config])
  t.equal(r.code, 1)
  t.match(r.stdout, /^haproxy\s+fail .*HAProxy socket .*haproxy\.sock: connection refused/m)
  rmSync(stack.haproxy.socket, { force: true })
  const missing = await runCli(['check', '--only', 'haproxy', '--config', config])
  t.match(missing.stdout, /no such socket file/)
})

t.test('a socket that accepts and never answers: exit 1 within timeout + 200 ms', async (t) => {
  const hung = await misbehavingServer(stack.haproxy.socket, () => {})
  t.teardown(() => hung.close())
  const started = Date.now()
  const r = await runCli(['check', '--only', 'haproxy', '--timeout', '500', '--config', config])
  t.equal(r.code, 1)
  // --timeout is the whole budget: loading the config comes out of it, the probes get the rest.
  t.match(r.stdout, /no answer to "show (info|stat)" within \d+ ms/)
  // Node's own start-up (~100-400 ms on a loaded CI box) comes before our clock starts.
  t.ok(Date.now() - started < 500 + 200 + 1500, `took ${Date.now() - started} ms`)
  const inner = Number(/haproxy\s+fail\s+(\d+)ms/.exec(r.stdout)?.[1])
  t.ok(inner <= 500 + 50, `the probe stopped at its deadline (${inner} ms)`)
})

t.test('garbage on the socket is a failed result, not a crash', async (t) => {
  rmSync(stack.haproxy.socket, { force: true })
  const garbage = await misbehavingServer(stack.haproxy.socket, (c) => c.end('HTTP/1.0 200 OK\r\n\r\nhello'))
  t.teardown(() => garbage.close())
  const r = await runCli(['check', '--only', 'haproxy', '--config', config])
  t.equal(r.code, 1)
  t.match(r.stdout, /not a "show (info|stat)" answer/)
})
