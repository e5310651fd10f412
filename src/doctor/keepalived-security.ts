// keepalived's scripts as the user they run as: `enable_script_security` and a
// `script_user` that is not root (warnings), the scripts' paths as keepalived
// checks them (root's, writable by no one else: else it refuses to run them),
// and what `ha-agent check` and `notify` open as that user: the config, the
// control socket, the runtime and state directories, HAProxy's socket.
// keepalived 2.2 runs a script with the script user's uid and that one group:
// it drops the supplementary groups (measured: `id` from a vrrp_script shows
// only the primary group), so membership of another group does not count.
import { dirname, resolve } from 'node:path'
import type { AgentConfig } from '../config/index.js'
import { mayAccess, type Ids, type StatFn, type Want } from './access.js'
import { at, error, ok, warning, type Finding } from './finding.js'
import { callsHaAgent, notifiesOf, type KaModel } from './keepalived-model.js'
import type { KaNode } from './keepalived-parse.js'

export interface SecurityFacts {
  /** the script user's ids (uid and its one group), or undefined when the user does not exist */
  scriptUser: Ids | undefined
  /** the name keepalived uses: script_user, else keepalived_script when it exists, else root */
  scriptUserName: string
  stat: StatFn
  names: (uid: number, gid: number) => string
}

const CONTROL_SOCKET = 'agent.sock'

/** keepalived's check_security: root owns the file and every directory above it, and only root may write them (a sticky directory may be). */
export function insecurePathPart(path: string, stat: StatFn, names: SecurityFacts['names']): string | undefined {
  const parts: string[] = []
  for (let p = resolve(path); ; p = dirname(p)) {
    parts.unshift(p)
    if (p === '/') break
  }
  for (const p of parts) {
    let st
    try {
      st = stat(p)
    } catch {
      return `${p} does not exist`
    }
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0
    if (st.uid !== 0) return `${p} is owned by ${names(st.uid, st.gid).split(':')[0]}, not root`
    if (!sticky && ((st.gid !== 0 && st.mode & 0o020) || st.mode & 0o002)) return `${p} (${names(st.uid, st.gid)} ${(st.mode & 0o7777).toString(8).padStart(4, '0')}) is writable by others than root`
  }
  return undefined
}

function scriptsOf(m: KaModel): Array<{ argv: string[]; node: KaNode; what: string }> {
  const scripts = m.scripts.filter((s) => callsHaAgent(s.argv, 'check')).map((s) => ({ argv: s.argv, node: s.node, what: `vrrp_script ${s.name}` }))
  const seen = new Set<KaNode>()
  for (const i of m.instances) {
    for (const n of notifiesOf(i)) {
      if (!seen.has(n.node) && callsHaAgent(n.argv, 'notify')) scripts.push({ argv: n.argv, node: n.node, what: n.kind })
      seen.add(n.node)
    }
  }
  return scripts
}

export function checkScriptSecurity(m: KaModel, config: AgentConfig, f: SecurityFacts): Finding[] {
  const out: Finding[] = []
  const gd = m.globalDefs ? at(m.globalDefs) : 'keepalived.conf'
  if (!m.enableScriptSecurity) out.push(warning('keepalived.script_security', gd, 'no enable_script_security: keepalived runs scripts whose path others than root could replace', 'enable_script_security in global_defs'))
  else out.push(ok('keepalived.script_security', at(m.enableScriptSecurity), 'enable_script_security is on'))
  const userAt = m.scriptUser ? at(m.scriptUser.node) : gd
  if (!m.scriptUser || f.scriptUserName === 'root' || f.scriptUser?.uid === 0) {
    out.push(warning('keepalived.script_user', userAt, `scripts run as ${f.scriptUserName}${m.scriptUser ? '' : ' (no script_user)'}: ha-agent check and notify need no privilege`, 'script_user ha-agent in global_defs'))
  }
  if (!f.scriptUser) {
    out.push(error('keepalived.script_user', userAt, `script_user ${f.scriptUserName}${m.scriptUser?.group ? ` ${m.scriptUser.group}` : ''} does not exist here: keepalived runs no script`, 'install the ha-agent package (it creates the ha-agent user), or name an existing user'))
    return out
  }
  const who = f.scriptUser
  for (const s of scriptsOf(m)) {
    const program = s.argv[0]
    if (!program) continue
    const bad = m.enableScriptSecurity ? insecurePathPart(program, f.stat, f.names) : undefined
    if (bad) out.push(error('keepalived.script_security', at(s.node), `${s.what} runs ${program}, but ${bad}: with enable_script_security keepalived refuses to run it`, `chown root and chmod go-w every part of ${program}`))
    const run = mayAccess(program, who, 'x', f.stat, f.names)
    if (!run.ok) out.push(error('keepalived.script_user', at(s.node), `${s.what}: ${who.name} cannot run ${program}: ${run.why}`, `make ${program} executable by ${who.name}`))
  }
  // What `check` and `notify` open, as the script user: the daemon's socket, and their own way when it does not answer.
  const needs: Array<[string, Want, string, boolean]> = []
  if (config.configPath) needs.push([config.configPath, 'r', 'the config (check and notify read it)', true])
  needs.push([resolve(config.runtime_dir, CONTROL_SOCKET), 'w', 'the control socket (check and notify ask the daemon there)', false])
  needs.push([config.state_dir, 'rwx', 'state_dir (notify records a transition itself while the daemon is down)', true])
  const track = config.keepalived?.track_file
  if (track) needs.push([dirname(track), 'rwx', "the track_file's directory (check keeps the track_file while the daemon is down)", true])
  const hs = config.checks.haproxy?.socket
  if (hs) needs.push([hs, 'w', "HAProxy's socket (check probes HAProxy itself while the daemon is down)", false])
  const denied: string[] = []
  for (const [path, want, what, mustExist] of needs) {
    const a = mayAccess(path, who, want, f.stat, f.names)
    if (a.ok) continue
    // a socket that is not there: the daemon or HAProxy is not running, which the daemon and haproxy checks report
    if (!mustExist && a.why?.endsWith('does not exist')) continue
    denied.push(what)
    out.push(error('keepalived.script_user', userAt, `${who.name} (the script user, gid ${who.gids[0]} only: keepalived drops supplementary groups) cannot use ${what}: ${a.why}`, `give ${path} to group ${f.names(who.uid, who.gids[0]!).split(':')[1]} with the mode it needs (${want}), or run scripts as the ha-agent user`))
  }
  if (!denied.length) out.push(ok('keepalived.script_user', userAt, `scripts run as ${who.name}, who can read the config and use the control socket, state_dir, the track_file's directory and HAProxy's socket`))
  return out
}
