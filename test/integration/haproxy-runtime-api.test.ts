// haproxyCommand and the parsers against a real HAProxy's runtime API. (Garbage,
// missing, refused and hung sockets: test/haproxy/runtime-api.test.ts.)
import t from 'tap'
import { haproxyCommand, parseShowInfo, parseShowStat } from '../../src/haproxy/index.js'
import { startHaproxy } from '../fixtures/haproxy.js'

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
