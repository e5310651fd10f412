import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkHaproxy, type HaproxyFacts } from '../../src/doctor/haproxy-cfg.js'
import { parseHaproxyCfg } from '../../src/doctor/haproxy-parse.js'
import { fakeRuntimeApi } from '../fixtures/haproxy.js'
import { misbehavingServer } from '../fixtures/procs.js'
import { agentConfig, problems } from '../fixtures/doctor.js'

const shippedText = readFileSync(fileURLToPath(new URL('../../haproxy/haproxy.cfg', import.meta.url)), 'utf8').replaceAll(/@PGBOUNCER\d@/g, '10.0.1.10')
const me = { name: 'ha-agent', uid: process.getuid!(), gids: [process.getgid!()] }
const STAT = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type\n' +
  'postgres,FRONTEND,,,0,0,4000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,1,0,,,,0\npgbouncers,pgbouncer1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,1,0,,1,2,1,,0,,2\npgbouncers,BACKEND,0,0,0,0,400,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,1,0,,1,2,0,,0,,1\n'

async function setup(t: { teardown(fn: () => unknown): void }, text: string, answers?: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-doctor-ha-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const api = answers ? await fakeRuntimeApi(t, answers) : undefined
  const socket = api?.socket ?? join(dir, 'none.sock')
  const cfg = parseHaproxyCfg('/etc/haproxy/haproxy.cfg', text.replaceAll('/run/haproxy/ha-agent.sock', socket))
  const config = agentConfig({ checks: { timeout_ms: 800, haproxy: { socket, backends: [{ name: 'pgbouncers' }] } } })
  const facts: HaproxyFacts = { daemonUser: me, stat: statSync, names: (u, g) => `${u}:${g}`, gidOf: async (g) => (g === 'ha-agent' ? me.gids[0] : 4242), timeoutMs: 500 }
  return { cfg, config, facts, socket }
}
const healthy = { 'show cli level': 'user\n', 'show info': 'Name: HAProxy\nVersion: 2.6.12\nPid: 42\n', 'show stat': STAT }

t.test('the shipped haproxy.cfg and an HAProxy that answers at level user: ok', async (t) => {
  const { cfg, config, facts, socket } = await setup(t, shippedText, healthy)
  const f = await checkHaproxy(cfg, config, facts)
  t.same(problems(f), [])
  t.match(f.map((x) => x.problem), [/declared at level user/, new RegExp(`HAProxy 2\\.6\\.12 answers show info and show stat at level user, and ha-agent may connect`), /backend pgbouncers \(checks\.haproxy\.backends\[0\]\) is in the file and in show stat/])
  t.ok(socket)
})

t.test('the socket at level admin, or HAProxy\'s default, or in a group the agent is not in', async (t) => {
  const admin = await setup(t, shippedText.replace('level user group ha-agent', 'level admin group ha-agent'), { ...healthy, 'show cli level': 'admin\n' })
  t.match(problems(await checkHaproxy(admin.cfg, admin.config, admin.facts)), [/^warning haproxy\.socket \/etc\/haproxy\/haproxy\.cfg:14: stats socket \S+ is at level admin: more than the agent needs/, /^warning haproxy\.live .*serves this socket at level admin/])
  const dflt = await setup(t, shippedText.replace('level user group ha-agent', 'group ha-agent'), healthy)
  t.match(problems(await checkHaproxy(dflt.cfg, dflt.config, dflt.facts)), [/is at level operator \(HAProxy's default\)/])
  const group = await setup(t, shippedText.replace('level user group ha-agent', 'level user group haproxy'), healthy)
  t.match(problems(await checkHaproxy(group.cfg, group.config, { ...group.facts, daemonUser: { name: 'ha-agent', uid: 999, gids: [995] } })), [/^error haproxy\.socket \S+:14: stats socket \S+ is for group haproxy, mode 660: ha-agent \(gids 995\) cannot connect once HAProxy starts with this file/, /^error haproxy\.live .*ha-agent cannot connect/])
})

t.test('no stats socket line for checks.haproxy.socket; a backend the file or show stat lacks', async (t) => {
  const none = await setup(t, shippedText.replace(/^\s*stats socket \/run\/haproxy\/ha-agent\.sock.*$/m, ''), healthy)
  t.match(problems(await checkHaproxy(none.cfg, none.config, none.facts)), [/^error haproxy\.socket \/etc\/haproxy\/haproxy\.cfg: no stats socket at \S+ \(checks\.haproxy\.socket in \/etc\/ha-agent\/config\.yaml\); the file declares \/run\/haproxy\/admin\.sock/])
  const renamed = await setup(t, shippedText.replace(/^backend pgbouncers/m, 'backend pgbouncer_pool').replace('default_backend pgbouncers', 'default_backend pgbouncer_pool'), healthy)
  t.match(problems(await checkHaproxy(renamed.cfg, renamed.config, renamed.facts)), [/^error haproxy\.names \/etc\/haproxy\/haproxy\.cfg: no backend pgbouncers in haproxy\.cfg \(checks\.haproxy\.backends\[0\] in \S+; the file has pgbouncer_pool, stats\)/])
  const notLive = await setup(t, shippedText, { ...healthy, 'show stat': STAT.split('\n').filter((l) => !l.startsWith('pgbouncers')).join('\n') })
  t.match(problems(await checkHaproxy(notLive.cfg, notLive.config, notLive.facts)), [/^error haproxy\.names \S+:\d+: backend pgbouncers is in the file but not in the running HAProxy's show stat/])
})

t.test('no socket, a socket that answers nothing, no checks.haproxy', async (t) => {
  const gone = await setup(t, shippedText)
  t.match(problems(await checkHaproxy(gone.cfg, gone.config, gone.facts)), [/^error haproxy\.live socket \S+: no such socket: HAProxy is not running/])
  const { cfg, config, facts } = await setup(t, shippedText, healthy)
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-doctor-mute-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const mute = join(dir, 'mute.sock')
  const srv = await misbehavingServer(mute, () => {})
  t.teardown(() => srv.close())
  const muteCfg = { ...config, checks: { ...config.checks, haproxy: { ...config.checks.haproxy!, socket: mute } } }
  const f = problems(await checkHaproxy(cfg, muteCfg, facts))
  t.match(f, [/no stats socket at/, /^error haproxy\.live socket \S+mute\.sock: HAProxy does not answer: .*no answer to "show cli level;show info;show stat" within 500 ms/])
  t.match(problems(await checkHaproxy(cfg, agentConfig({ checks: {} }), facts)), [/^warning haproxy\.socket .*no checks\.haproxy/])
  t.match(problems(await checkHaproxy({ file: '/nope/haproxy.cfg', error: 'ENOENT' }, config, facts)), [/^error haproxy\.cfg \/nope\/haproxy\.cfg: cannot read: ENOENT/])
})
