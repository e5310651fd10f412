import t from 'tap'
import { checkScriptSecurity, insecurePathPart } from '../../src/doctor/keepalived-security.js'
import { agentConfig, fakeStat, kaModel, problems, shippedKeepalived, type StatEntry } from '../fixtures/doctor.js'

const dir = (uid = 0, gid = 0, mode = 0o755): StatEntry => ({ uid, gid, mode, dir: true })
const host: Record<string, StatEntry> = {
  '/': dir(),
  '/usr': dir(),
  '/usr/bin': dir(),
  '/usr/bin/ha-agent': { uid: 0, gid: 0, mode: 0o755 },
  '/etc': dir(),
  '/etc/ha-agent': dir(),
  '/etc/ha-agent/config.yaml': { uid: 0, gid: 995, mode: 0o640 },
  '/run': dir(),
  '/run/ha-agent': dir(999, 995, 0o755),
  '/run/ha-agent/agent.sock': { uid: 999, gid: 995, mode: 0o660, socket: true },
  '/var': dir(),
  '/var/lib': dir(),
  '/var/lib/ha-agent': dir(999, 995, 0o750),
  '/run/haproxy': dir(),
  '/run/haproxy/ha-agent.sock': { uid: 0, gid: 995, mode: 0o660, socket: true },
  '/tmp': dir(0, 0, 0o1777),
}
const names = (u: number, g: number) => `${u === 999 ? 'ha-agent' : u}:${g === 995 ? 'ha-agent' : g}`
const agent = { name: 'ha-agent', uid: 999, gids: [995] }
const shipped = shippedKeepalived()
const run = (text: string, over: Partial<Parameters<typeof checkScriptSecurity>[2]> = {}, files = host) =>
  checkScriptSecurity(kaModel(text), agentConfig(), { scriptUser: agent, scriptUserName: 'ha-agent', stat: fakeStat(files), names, ...over })

t.test('the shipped file on an installed node: ok', async (t) => {
  const f = run(shipped)
  t.same(problems(f), [])
  t.match(f.map((x) => x.problem), ['enable_script_security is on', /^scripts run as ha-agent, who can read the config/])
})

t.test('no enable_script_security; no script_user, or root: warnings', async (t) => {
  t.match(problems(run(shipped.replace(/^\s*enable_script_security$/m, ''))), [/^warning keepalived\.script_security \S+:12: no enable_script_security/])
  t.match(problems(run(shipped.replace(/^\s*script_user ha-agent$/m, ''), { scriptUserName: 'root', scriptUser: { name: 'root', uid: 0, gids: [0] } })), [/^warning keepalived\.script_user .*scripts run as root \(no script_user\)/])
  t.match(problems(run(shipped, { scriptUser: undefined })), [/^error keepalived\.script_user \S+:16: script_user ha-agent does not exist here/])
})

t.test('keepalived refuses a script path others than root can write (with enable_script_security)', async (t) => {
  t.match(problems(run(shipped, {}, { ...host, '/usr/bin': dir(0, 50, 0o775) })), [/vrrp_script chk_ha_agent runs \/usr\/bin\/ha-agent, but \/usr\/bin \(0:50 0775\) is writable by others than root/, /notify runs/])
  t.equal(insecurePathPart('/tmp', fakeStat(host), names), undefined, 'a sticky directory may be world-writable')
  t.match(insecurePathPart('/run/ha-agent', fakeStat(host), names), /owned by ha-agent, not root/)
})

t.test("what the script user cannot open: its one group counts, not the supplementary ones", async (t) => {
  const locked = { ...host, '/run/ha-agent/agent.sock': { uid: 999, gid: 106, mode: 0o660, socket: true } }
  const other = { name: 'keepalived_script', uid: 1001, gids: [1001] }
  const p = problems(run(shipped, { scriptUser: other, scriptUserName: 'keepalived_script' }, locked))
  t.match(p, [
    /cannot use the config \(check and notify read it\): \/etc\/ha-agent\/config\.yaml is 0:ha-agent 0640/,
    /cannot use the control socket/,
    /cannot use state_dir .*\/var\/lib\/ha-agent is ha-agent:ha-agent 0750: keepalived_script \(uid 1001, gids 1001\) may not create files in it/,
    /cannot use the track_file's directory/,
    /cannot use HAProxy's socket/,
  ])
  t.match(p[0], /gid 1001 only: keepalived drops supplementary groups/)
  t.same(problems(run(shipped, {}, { ...host, '/run/ha-agent/agent.sock': undefined as unknown as StatEntry })), [], 'a control socket that is not there (no daemon) is for the daemon checks to say')
})
