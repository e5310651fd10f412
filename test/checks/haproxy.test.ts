// The HAProxy check on the answers HAProxy 2.6 gave (captured in
// test/haproxy/fixtures: a backend with one server UP, one DOWN, one in
// maintenance), served by a stand-in, and against sockets that are not HAProxy.
// (A real HAProxy: test/integration/check-haproxy.test.ts.)
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { probeHaproxy } from '../../src/checks/haproxy.js'
import { fakeRuntimeApi } from '../fixtures/haproxy.js'
import { misbehavingServer } from '../fixtures/procs.js'

const info = readFileSync(new URL('../haproxy/fixtures/show-info-2.6.txt', import.meta.url), 'utf8')
const stat = readFileSync(new URL('../haproxy/fixtures/show-stat-2.6.csv', import.meta.url), 'utf8')
const dir = mkdtempSync(join(tmpdir(), 'ha-agent-hacheck-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const at = (socket: string, section: Record<string, unknown> = {}) => buildConfig({ checks: { haproxy: { socket, ...section } } }, null, { env: {} }).checks.haproxy!

/** A runtime API answering `show info;show stat` with the captured answers (the stat one edited by `edit`). */
async function haproxy2_6(t: Parameters<typeof fakeRuntimeApi>[0], edit: (csv: string) => string = (s) => s) {
  const api = await fakeRuntimeApi(t, { 'show info': info.trimEnd() + '\n', 'show stat': edit(stat).trimEnd() + '\n' })
  return api
}

t.test('min_up met: pass, with servers UP per backend in detail and data; both commands on one connection', async (t) => {
  const api = await haproxy2_6(t)
  const f = await probeHaproxy(at(api.socket, { backends: [{ name: 'pgbouncers', min_up: 1 }] }), 1000)
  t.equal(f.ok, true, f.detail)
  t.equal(f.detail, 'HAProxy 2.6.12-1+deb12u4, pgbouncers 1/3 UP')
  t.same(f.data, { pid: Number(/^Pid: (\d+)/m.exec(info)![1]), version: '2.6.12-1+deb12u4', backends: { pgbouncers: { up: 1, total: 3, min_up: 1 } } })
  t.same(api.asked, ['show info;show stat'])
})

t.test('min_up not met, unknown backend, unknown or listed frontends', async (t) => {
  const api = await haproxy2_6(t)
  const two = await probeHaproxy(at(api.socket, { backends: [{ name: 'pgbouncers', min_up: 2 }] }), 1000)
  t.equal(two.ok, false)
  t.equal(two.detail, 'backend pgbouncers: 1/3 servers UP, need 2')
  const missing = await probeHaproxy(at(api.socket, { backends: [{ name: 'nosuch' }], frontends: ['postgres', 'nofe'] }), 1000)
  t.equal(missing.ok, false)
  t.equal(missing.detail, 'backend nosuch not found; frontend nofe not found')
})

t.test('a frontend not OPEN fails the check; every frontend is checked when none is listed', async (t) => {
  const api = await haproxy2_6(t, (csv) => csv.replace('postgres,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,OPEN', 'postgres,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,PAUSED'))
  const f = await probeHaproxy(at(api.socket), 1000)
  t.equal(f.ok, false)
  t.equal(f.detail, 'frontend postgres is PAUSED')
})

t.test('not HAProxy: garbage, silence, refusal, no file', async (t) => {
  const garbagePath = join(dir, 'garbage.sock')
  const garbage = await misbehavingServer(garbagePath, (c) => c.end('SSH-2.0-OpenSSH_9.2\r\n'))
  const silentPath = join(dir, 'silent.sock')
  const silent = await misbehavingServer(silentPath, () => {})
  t.teardown(() => Promise.all([garbage.close(), silent.close()]))
  await t.rejects(probeHaproxy(at(garbagePath), 1000), /not a "show (info|stat)" answer: "SSH-2\.0/)
  await t.rejects(probeHaproxy(at(silentPath), 300), new RegExp(`HAProxy socket ${silentPath}: no answer to "show info;show stat" within 300 ms`))
  await t.rejects(probeHaproxy(at(join(dir, 'none.sock')), 300), /none\.sock: no such socket file/)
  // a socket file with nobody listening: what a SIGKILLed HAProxy leaves behind
  const stalePath = join(dir, 'stale.sock')
  writeFileSync(stalePath, '')
  await t.rejects(probeHaproxy(at(stalePath), 300), /stale\.sock: connection refused/)
})
