import t from 'tap'
import { join } from 'node:path'
import { haproxyCommand, parseShowInfo, parseShowStat } from '../../src/haproxy/index.js'
import { startHaproxy } from '../fixtures/haproxy.js'
import { misbehavingServer } from '../fixtures/procs.js'

const haproxy = await startHaproxy(t)

t.test('show info / show stat from a real HAProxy parse', async (t) => {
  const info = parseShowInfo(await haproxyCommand(haproxy.socket, 'show info', 2000))
  t.equal(Number(info.Pid), haproxy.pid())
  t.match(info.Version, /^\d+\.\d+/)
  const rows = parseShowStat(await haproxyCommand(haproxy.socket, 'show stat', 2000))
  const fe = rows.find((r) => r.pxname === 'fe' && r.svname === 'FRONTEND')
  t.equal(fe?.status, 'OPEN')
  t.equal(fe?.type, 0)
  const s1 = rows.find((r) => r.pxname === 'be' && r.svname === 's1')
  t.equal(s1?.status, 'MAINT')
  t.equal(s1?.type, 2)
})

t.test('garbage is rejected by the parsers', async (t) => {
  t.throws(() => parseShowStat('Unknown command\n'), /not a "show stat" answer/)
  t.throws(() => parseShowInfo('hello: world\n'), /not a "show info" answer/)
})

t.test('missing, refused and hung sockets reject naming the socket', async (t) => {
  const dir = join(haproxy.socket, '..')
  await t.rejects(haproxyCommand(join(dir, 'nope.sock'), 'show info', 500), /nope\.sock: no such socket file/)
  const hungPath = join(dir, 'hung.sock')
  const hung = await misbehavingServer(hungPath, () => {})
  t.teardown(() => hung.close())
  const started = Date.now()
  await t.rejects(haproxyCommand(hungPath, 'show info', 300), /hung\.sock: no answer to "show info" within 300 ms/)
  t.ok(Date.now() - started < 600)
})
