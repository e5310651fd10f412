import t from 'tap'
import { createServer } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StatusSnapshot } from '../../src/api/status.js'
import { pollPeer } from '../../src/cluster/index.js'
import { startControlServer } from '../../src/control/index.js'
import { askDaemon, checkDaemon, type DaemonFacts, type DaemonView } from '../../src/doctor/daemon.js'
import { agentConfig, problems } from '../fixtures/doctor.js'
import { fakeSnapshot } from '../fixtures/snapshot.js'

const config = agentConfig()
function status(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    ...fakeSnapshot(),
    keepalived: { up: true, pid_file: '/run/vrrp.pid', detail: 'pid 101 runs' },
    notify_refused: { count: 0, last_error: null, last_at: null },
    track_file: { path: '/run/ha-agent/fault', fault: false, reason: 'healthy' },
    peers: [{ url: 'https://10.0.1.22:9471', reachable: true, node: 'haproxy2' }],
    ...over,
  }
}
const running = (s: StatusSnapshot = status()): DaemonView => ({ running: true, socket: '/run/ha-agent/agent.sock', pid: 77, ready: true, status: s })
const facts = (over: Partial<DaemonFacts> = {}): DaemonFacts => ({
  keepalived: [
    { pid: 100, child: false, configFile: '/etc/keepalived/keepalived.conf', vrrpPidFile: '/run/vrrp.pid' },
    { pid: 101, child: true, configFile: '/etc/keepalived/keepalived.conf', vrrpPidFile: '/run/vrrp.pid' },
  ],
  unit: { unit: 'ha-agent.service', loaded: true, privateUsers: 'no', protectProc: 'invisible', user: 'ha-agent', dropIns: [] },
  scriptUserName: 'ha-agent',
  daemonUserName: 'ha-agent',
  trackedFiles: ['/run/ha-agent/fault'],
  readPid: () => 101,
  ...over,
})

t.test('a daemon that sees everything: all ok', async (t) => {
  const f = checkDaemon(running(), config, facts())
  t.same(problems(f), [])
  t.match(f.map((x) => x.problem), [
    'the daemon answers (pid 77)',
    /the daemon sees keepalived running \(pid 101 runs\); keepalived's VRRP process runs \(pid 101, pid file \/run\/vrrp\.pid\)/,
    /no notify claim refused \(ha-agent\.service: PrivateUsers=no, ProtectProc=invisible\)/,
    /writes \/run\/ha-agent\/fault, which keepalived\.conf tracks/,
    'haproxy2 answers /status with the same token',
  ])
})

t.test('not running: an error, and whether keepalived runs all the same', async (t) => {
  const down: DaemonView = { running: false, socket: '/run/ha-agent/agent.sock', why: 'no daemon listens' }
  t.match(problems(checkDaemon(down, config, facts())), [/^error daemon\.running control socket \/run\/ha-agent\/agent\.sock: the daemon is not running: no daemon listens/])
  t.match(problems(checkDaemon(down, config, facts({ keepalived: [] }))), [/daemon is not running/, /^error keepalived\.running keepalived: no keepalived process runs/])
})

t.test('the daemon does not see keepalived: its pid_file names nothing, or the sandbox hides it', async (t) => {
  const gone = status({ keepalived: { up: false, pid_file: '/run/nothing.pid', detail: 'no pid file /run/nothing.pid' } })
  t.match(problems(checkDaemon(running(gone), config, facts())), [/^error keepalived\.seen daemon keepalived: the daemon watches \/run\/nothing\.pid \(keepalived\.pid_file\), so it says keepalived is not running \(no pid file \/run\/nothing\.pid\), but keepalived writes its VRRP pid to \/run\/vrrp\.pid/])
  const hidden = status({ keepalived: { up: false, pid_file: '/run/vrrp.pid', detail: 'pid 101 (from /run/vrrp.pid) is gone' } })
  const sandboxed = facts({ unit: { unit: 'ha-agent.service', loaded: true, privateUsers: 'yes', protectProc: 'invisible', user: 'ha-agent', dropIns: ['/etc/systemd/system/ha-agent.service.d/private.conf'], privateUsersIn: '/etc/systemd/system/ha-agent.service.d/private.conf' } })
  const p = problems(checkDaemon(running(hidden), config, sandboxed))
  t.match(p[0], /^error keepalived\.seen .*the daemon says keepalived is not running .* ha-agent\.service runs with PrivateUsers=yes \(drop-ins: \/etc\/systemd\/system\/ha-agent\.service\.d\/private\.conf\)/)
  t.match(p[1], /^error daemon\.sandbox ha-agent\.service: ha-agent\.service runs with PrivateUsers=yes/, 'the unit is named even before a notify is refused')
  const fix = checkDaemon(running(hidden), config, sandboxed).find((f) => f.check === 'daemon.sandbox')!.fix
  t.equal(fix, 'remove PrivateUsers= from /etc/systemd/system/ha-agent.service.d/private.conf, then systemctl daemon-reload && systemctl restart ha-agent')
  t.match(problems(checkDaemon(running(status({ keepalived: { up: null, pid_file: '/run/vrrp.pid', detail: 'cannot read' } })), config, facts())), [/^warning keepalived\.seen .*cannot tell/])
  t.match(problems(checkDaemon(running(status({ keepalived: { up: null, pid_file: null, detail: 'not set' } })), config, facts())), [/^warning keepalived\.seen .*keepalived\.pid_file is null/])
})

t.test('notify claims refused: named, with the sandbox cause when the unit has one', async (t) => {
  const refused = status({ notify_refused: { count: 3, last_error: 'process 1234 is not an ha-agent notify (or not visible here)', last_at: 'x' } })
  t.match(problems(checkDaemon(running(refused), config, facts({ unit: undefined }))), [/^error daemon\.sandbox daemon notify: 3 notify claims refused since the daemon started \(last: process 1234 is not an ha-agent notify \(or not visible here\)\)/])
  const withCause = problems(checkDaemon(running(refused), config, facts({ unit: { unit: 'ha-agent.service', loaded: true, privateUsers: 'self', protectProc: 'invisible', user: 'ha-agent', dropIns: [] } })))
  t.match(withCause, [/3 notify claims refused .*: ha-agent\.service runs with PrivateUsers=self/])
  t.match(problems(checkDaemon(running(), config, facts({ scriptUserName: 'keepalived_script' }))), [/^error daemon\.sandbox ha-agent\.service: ha-agent\.service has ProtectProc=invisible and runs as ha-agent, but keepalived runs notify as keepalived_script/])
})

t.test('the track_file the daemon writes is not the one keepalived.conf tracks', async (t) => {
  t.match(problems(checkDaemon(running(), config, facts({ trackedFiles: ['/run/other/fault'] }))), [/^error daemon\.track_file daemon track_file: the daemon writes \/run\/ha-agent\/fault, but keepalived\.conf tracks \/run\/other\/fault/])
})

t.test('a peer that refuses the token (as cluster/ records it: pollPeer against a 401), or is unreachable', async (t) => {
  const server = createServer((_req, res) => res.writeHead(401).end('{}'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => server.close())
  const view = await pollPeer(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { timeoutMs: 1000, token: 'a'.repeat(32) })
  const p = problems(checkDaemon(running(status({ peers: [view, { url: 'https://10.0.1.23:9471', reachable: false, error: 'ECONNREFUSED' }] })), config, facts()))
  t.match(p, [/^error daemon\.peers peer http:\/\/127\.0\.0\.1:\d+: the peer refuses this node's token \(HTTP 401 .*\): it answers with a different token/, /^warning daemon\.peers peer https:\/\/10\.0\.1\.23:9471: unreachable: ECONNREFUSED/])
  t.match(problems(checkDaemon(running(status({ peers: [] })), config, facts())), [/^warning daemon\.peers .*no peers/])
})

t.test('askDaemon: ping, the config it runs, its status; none listening is "not running"', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-doctor-daemon-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cfg = agentConfig({ runtime_dir: dir })
  t.match(await askDaemon(cfg, '/etc/ha-agent/config.yaml', 500), { running: false, why: /no daemon listens/ })
  const server = await startControlServer({
    path: join(dir, 'agent.sock'),
    handle: async (req) => {
      if (req.op === 'ping') return { ok: true, pong: true, ready: true, pid: 4321 }
      if (req.op === 'check') return req.configPath === '/etc/ha-agent/config.yaml' ? { ok: false, error: 'no verdict younger than 3000 ms' } : { ok: false, error: `this daemon runs /etc/ha-agent/config.yaml, not ${req.configPath}` }
      if (req.op === 'status') return { ok: true, status: status() }
      return { ok: false, error: 'no' }
    },
  })
  t.teardown(() => server.close())
  const same = await askDaemon(cfg, '/etc/ha-agent/config.yaml', 500)
  t.match(same, { running: true, pid: 4321, ready: true, status: { node: 'ha1' } })
  t.notOk('otherConfig' in same && same.otherConfig)
  const other = await askDaemon(cfg, '/tmp/copy.yaml', 500)
  t.match(other, { running: true, otherConfig: '/etc/ha-agent/config.yaml' })
  t.match(problems(checkDaemon(other, cfg, facts())), [/^warning daemon\.config .*the daemon runs \/etc\/ha-agent\/config\.yaml, not /])
})
