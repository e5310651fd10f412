// The HAProxy check against a real HAProxy whose backend has one server UP, one
// DOWN and one in maintenance. (Against sockets that are not HAProxy, and the
// min_up rules on captured answers: test/checks/haproxy.test.ts.)
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { probeHaproxy } from '../../src/checks/haproxy.js'
import { freePort, killProc, misbehavingServer, startProc, waitFor } from '../fixtures/procs.js'
import { haproxyCommand, parseShowStat } from '../../src/haproxy/index.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-hacheck-'))
// The version the installed HAProxy reports ("HAProxy version 3.0.11-1 2025/..."), whichever major it is.
const haproxyVersion = /^HAProxy version (\S+)/m.exec(execFileSync('haproxy', ['-v'], { encoding: 'utf8' }))?.[1]
if (!haproxyVersion) throw new Error('haproxy -v: no version')
const socket = join(dir, 'admin.sock')
const upServer = await misbehavingServer(0, () => {})
const [fePort, closedPort] = [await freePort(), await freePort()]
writeFileSync(
  join(dir, 'haproxy.cfg'),
  [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 5s',
    '  timeout server 5s',
    'frontend postgres',
    `  bind 127.0.0.1:${fePort}`,
    '  default_backend pgbouncers',
    'backend pgbouncers',
    '  default-server inter 100ms fall 1 rise 1',
    `  server up1 127.0.0.1:${upServer.port} check`,
    `  server down1 127.0.0.1:${closedPort} check`,
    '  server maint1 127.0.0.1:9 disabled',
    '',
  ].join('\n'),
)
const haproxy = startProc(['haproxy', '-db', '-f', join(dir, 'haproxy.cfg')])
t.teardown(async () => {
  await killProc(haproxy)
  await upServer.close()
  rmSync(dir, { recursive: true, force: true })
})
await waitFor('HAProxy health checks settled', async () => {
  const rows = parseShowStat(await haproxyCommand(socket, 'show stat', 1000))
  const status = (sv: string) => rows.find((r) => r.svname === sv)?.status
  return (status('up1') === 'UP' && status('down1') === 'DOWN') || undefined
})

function haproxyConfig(section: Record<string, unknown>) {
  const cfg = buildConfig({ checks: { haproxy: { socket, ...section } } }, null, { env: {} }).checks.haproxy
  if (!cfg) throw new Error('no haproxy section')
  return cfg
}

t.test('min_up met: pass, with servers UP per backend in detail and data', async (t) => {
  const f = await probeHaproxy(haproxyConfig({ backends: [{ name: 'pgbouncers', min_up: 1 }] }), 1000)
  t.equal(f.ok, true, f.detail)
  t.equal(f.detail, `HAProxy ${haproxyVersion}, pgbouncers 1/3 UP`)
  t.match(f.data, { pid: haproxy.child.pid, backends: { pgbouncers: { up: 1, total: 3, min_up: 1 } } })
})

t.test('min_up not met, unknown backend, unknown or listed frontends', async (t) => {
  const two = await probeHaproxy(haproxyConfig({ backends: [{ name: 'pgbouncers', min_up: 2 }] }), 1000)
  t.equal(two.ok, false)
  t.equal(two.detail, 'backend pgbouncers: 1/3 servers UP, need 2')
  const missing = await probeHaproxy(haproxyConfig({ backends: [{ name: 'nosuch' }], frontends: ['postgres', 'nofe'] }), 1000)
  t.equal(missing.detail, 'backend nosuch not found; frontend nofe not found')
})

t.test('a disabled frontend fails the check; every frontend is checked when none is listed', async (t) => {
  t.teardown(() => haproxyCommand(socket, 'enable frontend postgres', 1000))
  await haproxyCommand(socket, 'disable frontend postgres', 1000)
  const f = await probeHaproxy(haproxyConfig({}), 1000)
  t.equal(f.ok, false)
  t.equal(f.detail, 'frontend postgres is PAUSED')
})
