// The running daemon, over its control socket (every request under a
// deadline; "not running" is a finding): which config it runs, whether it is
// ready, whether it sees the keepalived that runs here (the sandbox case: a
// unit whose PrivateUsers= or ProtectProc= hides keepalived's notify processes
// from it, so their claims are refused), whether the track_file it writes is
// the one keepalived watches, and what its peers answered (401: another token).
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { statusSnapshotSchema, type StatusSnapshot } from '../api/status.js'
import type { AgentConfig } from '../config/index.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { hasCode } from '../errors/index.js'
import { error, ok, warning, type Finding } from './finding.js'
import type { KeepalivedProcess, UnitFacts } from './processes.js'

export type DaemonView =
  | { running: false; socket: string; why: string }
  | { running: true; socket: string; pid: number; ready: boolean; status?: StatusSnapshot; statusError?: string; otherConfig?: string }

/** Asks the daemon: ping, whose config, status; each within timeoutMs. */
export async function askDaemon(config: AgentConfig, configPath: string, timeoutMs: number): Promise<DaemonView> {
  const socket = controlSocketPath(config.runtime_dir)
  let pong
  try {
    pong = await controlRequest(socket, { op: 'ping' }, timeoutMs)
  } catch (err) {
    const why = hasCode(err, 'HA_ERR_UNAVAILABLE') ? `no daemon listens (${(err as Error).message})` : (err as Error).message
    return { running: false, socket, why }
  }
  if (!pong.ok || !('pong' in pong)) return { running: false, socket, why: `it answered ping with ${JSON.stringify(pong).slice(0, 120)}` }
  const view: DaemonView = { running: true, socket, pid: pong.pid, ready: pong.ready }
  // A `check` names the config it runs; a daemon of another config refuses it and names its own.
  const c = await controlRequest(socket, { op: 'check', configPath: resolve(configPath) }, timeoutMs).catch(() => undefined)
  const other = c && !c.ok ? /^this daemon runs (.*), not /.exec(c.error)?.[1] : undefined
  if (other) view.otherConfig = other
  try {
    const s = await controlRequest(socket, { op: 'status' }, timeoutMs)
    const parsed = s.ok && 'status' in s ? statusSnapshotSchema.safeParse(s.status) : undefined
    if (parsed?.success) view.status = parsed.data
    else view.statusError = parsed ? `not a status (${parsed.error.issues[0]?.message}): another version of ha-agent?` : `it answered ${'error' in s ? s.error : 'something else'}`
  } catch (err) {
    view.statusError = (err as Error).message
  }
  return view
}

export interface DaemonFacts {
  /** keepalived's processes in this network namespace */
  keepalived: KeepalivedProcess[]
  unit: UnitFacts | undefined
  /** who keepalived runs the notify scripts as, and who the daemon runs as */
  scriptUserName: string
  daemonUserName: string | undefined
  /** the files keepalived.conf's instances track */
  trackedFiles: string[]
  readPid?: (pidFile: string) => number | undefined
}

const readPid = (f: string) => {
  try {
    const n = Number(readFileSync(f, 'utf8').trim())
    return Number.isInteger(n) && n > 0 ? n : undefined
  } catch {
    return undefined
  }
}

const SANDBOXING = (v: string) => v !== '' && v !== 'no' && v !== 'false'

/** What of the unit hides keepalived's notify processes from the daemon (ha-agent.service's comment says why). */
function sandboxCause(f: DaemonFacts): { problem: string; fix: string } | undefined {
  const u = f.unit
  if (!u?.loaded) return undefined
  const dropIns = u.dropIns.length ? ` (drop-ins: ${u.dropIns.join(', ')})` : ''
  if (SANDBOXING(u.privateUsers)) return { problem: `${u.unit} runs with PrivateUsers=${u.privateUsers}${dropIns}: in a user namespace of its own the daemon cannot see the \`ha-agent notify\` processes keepalived runs, so their claims are refused and keepalived's fork order goes unchecked`, fix: `remove PrivateUsers= from ${u.privateUsersIn ?? 'the unit (systemctl cat ha-agent shows where it is set)'}, then systemctl daemon-reload && systemctl restart ha-agent` }
  if (u.protectProc && u.protectProc !== 'default' && f.daemonUserName && f.scriptUserName !== f.daemonUserName) return { problem: `${u.unit} has ProtectProc=${u.protectProc} and runs as ${f.daemonUserName}, but keepalived runs notify as ${f.scriptUserName}: those processes are hidden from the daemon, so their claims are refused`, fix: `script_user ${f.daemonUserName} in keepalived.conf (or ProtectProc=default in a drop-in)` }
  return undefined
}

/** keepalived's processes here, and the VRRP pid file the first one's command line names. */
function keepalivedHere(f: DaemonFacts): { runs?: string; expected?: string; finding?: Finding } {
  const mains = f.keepalived.filter((p) => !p.child)
  if (!mains.length) return { finding: error('keepalived.running', 'keepalived', 'no keepalived process runs in this network namespace: nothing holds the VIP here', 'systemctl start keepalived; journalctl -u keepalived') }
  const expected = mains[0]!.vrrpPidFile
  const vrrpPid = (f.readPid ?? readPid)(expected)
  const vrrp = f.keepalived.find((p) => p.child && p.pid === vrrpPid)
  const runs = vrrp ? `keepalived's VRRP process runs (pid ${vrrp.pid}, pid file ${expected})` : `keepalived runs (pid ${mains.map((p) => p.pid).join(', ')}; its VRRP pid file ${expected} ${vrrpPid ? `names ${vrrpPid}, no keepalived child` : 'is missing'})`
  return { runs, expected }
}

function keepalivedSeen(s: StatusSnapshot, f: DaemonFacts): Finding[] {
  const here = keepalivedHere(f)
  if (here.finding) return [here.finding]
  const { runs, expected } = here as { runs: string; expected: string }
  const where = 'daemon keepalived'
  const k = s.keepalived
  if (k.pid_file === null) return [warning('keepalived.seen', where, `keepalived.pid_file is null: the daemon does not watch keepalived (/master, ha_agent_keepalived_up) while ${runs}`, `keepalived.pid_file: ${expected}`)]
  const says = k.up === false ? `, so it says keepalived is not running (${k.detail})` : ''
  if (resolve(k.pid_file) !== expected) return [error('keepalived.seen', where, `the daemon watches ${k.pid_file} (keepalived.pid_file)${says}, but keepalived writes its VRRP pid to ${expected}: ${runs}`, `keepalived.pid_file: ${expected}, then systemctl reload ha-agent`)]
  if (k.up === false) {
    const cause = sandboxCause(f)
    return [error('keepalived.seen', where, `the daemon says keepalived is not running (${k.detail}) while ${runs}${cause ? `; ${cause.problem}` : ''}`, cause?.fix ?? 'systemctl restart ha-agent; journalctl -u ha-agent -b')]
  }
  if (k.up === null) return [warning('keepalived.seen', where, `the daemon cannot tell whether keepalived runs (${k.detail}) while ${runs}`, `keepalived.pid_file: ${expected}, readable by the daemon`)]
  return [ok('keepalived.seen', where, `the daemon sees keepalived running (${k.detail}); ${runs}`)]
}

function notifyClaims(s: StatusSnapshot, f: DaemonFacts): Finding[] {
  const cause = sandboxCause(f)
  const refused = s.notify_refused
  const where = `daemon notify`
  if (refused && refused.count > 0) {
    return [error('daemon.sandbox', where, `${refused.count} notify claim${refused.count === 1 ? '' : 's'} refused since the daemon started (last: ${refused.last_error ?? '?'})${cause ? `: ${cause.problem}` : ''}`, cause?.fix ?? 'journalctl -u ha-agent | grep "notify refused": the daemon must see the notify processes keepalived runs (same PID namespace, visible in /proc)')]
  }
  if (cause) return [error('daemon.sandbox', f.unit!.unit, cause.problem, cause.fix)]
  const unit = f.unit?.loaded ? ` (${f.unit.unit}: PrivateUsers=${f.unit.privateUsers || 'no'}, ProtectProc=${f.unit.protectProc || 'default'})` : ''
  return [ok('daemon.sandbox', where, `no notify claim refused${refused ? '' : ' (this daemon does not count them: older version)'}${unit}`)]
}

function peers(s: StatusSnapshot, config: AgentConfig): Finding[] {
  if (!s.peers.length) return [warning('daemon.peers', config.configPath ?? 'config', 'no peers: no split-brain detection, and a failure only this node has never moves the VIP by FAULT', 'peers: ["https://PEER:9471"] with cluster.token_file')]
  return s.peers.map((p) => {
    const where = `peer ${p.url}`
    if (p.reachable) return ok('daemon.peers', where, `${p.node ?? 'the peer'} answers /status with the same token`)
    if (/^HTTP 40[13]\b/.test(p.error ?? '')) return error('daemon.peers', where, `the peer refuses this node's token (${p.error}): it answers with a different token`, 'the same cluster.token_file content on both nodes, then systemctl reload ha-agent on the one that changed')
    if (p.error === 'not polled yet') return warning('daemon.peers', where, 'not polled yet (the daemon just started)', 'run doctor again in a few seconds')
    return warning('daemon.peers', where, `unreachable: ${p.error ?? 'no answer'}`, "the peer's daemon and API (systemctl status ha-agent there), the route, cluster.ca_file")
  })
}

export function checkDaemon(view: DaemonView, config: AgentConfig, f: DaemonFacts): Finding[] {
  if (!view.running) {
    const cause = f.unit?.loaded ? `systemctl status ${f.unit.unit}; journalctl -u ${f.unit.unit} -b` : 'start `ha-agent run` (systemctl start ha-agent)'
    const here = keepalivedHere(f)
    return [
      error('daemon.running', `control socket ${view.socket}`, `the daemon is not running: ${view.why}; check answers by itself (slower) and notify records by itself`, cause),
      here.finding ?? ok('keepalived.running', 'keepalived', here.runs!),
    ]
  }
  const out: Finding[] = [ok('daemon.running', `control socket ${view.socket}`, `the daemon answers (pid ${view.pid})`)]
  if (view.otherConfig) out.push(warning('daemon.config', `control socket ${view.socket}`, `the daemon runs ${view.otherConfig}, not ${config.configPath}: what doctor read is not what the daemon uses`, `ha-agent doctor --config ${view.otherConfig}`))
  if (!view.ready) out.push(warning('daemon.ready', `control socket ${view.socket}`, 'the daemon is not ready: a part has not started, or the first track_file decision is not written', 'journalctl -u ha-agent -b'))
  const s = view.status
  if (!s) return [...out, error('daemon.status', `control socket ${view.socket}`, `no status: ${view.statusError}`, 'systemctl restart ha-agent')]
  out.push(...keepalivedSeen(s, f), ...notifyClaims(s, f))
  if (s.track_file) {
    const tracked = f.trackedFiles.some((p) => resolve(p) === resolve(s.track_file!.path))
    if (tracked) out.push(ok('daemon.track_file', `daemon track_file`, `the daemon writes ${s.track_file.path}, which keepalived.conf tracks (now ${s.track_file.fault ? 'FAULT' : 'ok'}: ${s.track_file.reason})`))
    else out.push(error('daemon.track_file', 'daemon track_file', `the daemon writes ${s.track_file.path}, but keepalived.conf tracks ${f.trackedFiles.join(', ') || 'no file'}: keepalived never sees its faults`, 'the same path in keepalived.track_file and the track_file block (file "...")'))
  }
  out.push(...peers(s, config))
  return out
}
