// haproxy.cfg and the running HAProxy against checks.haproxy: the stats socket
// the agent names is declared (at `level user`: more is more than it needs,
// with a group and mode that let the ha-agent user in), it is there and is a
// socket the ha-agent user may connect to, HAProxy answers on it (`show cli
// level;show info;show stat`, under a deadline), and every backend and frontend
// the checks name is in the file and in `show stat`.
import { resolve } from 'node:path'
import type { AgentConfig } from '../config/index.js'
import { haproxyCommand, parseShowInfo, parseShowStat, type StatRow } from '../haproxy/index.js'
import { mayAccess, type Ids, type StatFn } from './access.js'
import { error, ok, warning, type Finding } from './finding.js'
import type { HaProxyCfg, HaSocket } from './haproxy-parse.js'

export interface HaproxyFacts {
  /** the daemon's user (who connects), if known */
  daemonUser: Ids | undefined
  stat: StatFn
  names: (uid: number, gid: number) => string
  /** a group's gid by name (or a number as it is) */
  gidOf(group: string): Promise<number | undefined>
  timeoutMs: number
}

const NEEDED = 'level user (show info and show stat are all the agent sends)'

async function declared(cfg: HaProxyCfg, s: HaSocket, f: HaproxyFacts): Promise<Finding[]> {
  const where = `${cfg.file}:${s.line}`
  const out: Finding[] = []
  if (s.level !== 'user') out.push(warning('haproxy.socket', where, `stats socket ${s.path} is at level ${s.level}${s.levelWritten ? '' : " (HAProxy's default)"}: more than the agent needs, and anyone in its group can ${s.level === 'admin' ? 'change anything' : 'change some things'}`, `level user on this line (keep the operator's admin socket apart)`))
  else out.push(ok('haproxy.socket', where, `stats socket ${s.path} is declared at ${NEEDED}`))
  const who = f.daemonUser
  if (!who) return out
  const gid = s.group !== undefined ? await f.gidOf(s.group) : undefined
  const mode = s.mode
  if (mode === undefined) {
    out.push(warning('haproxy.socket', where, `stats socket ${s.path} has no mode: it gets HAProxy's umask, which may shut ${who.name} out`, 'mode 660 group ha-agent on this line'))
  } else if (!(mode & 0o002) && !(gid !== undefined && who.gids.includes(gid) && mode & 0o020) && !(s.user === who.name && mode & 0o200)) {
    const group = s.group ?? "HAProxy's own group"
    out.push(error('haproxy.socket', where, `stats socket ${s.path} is for group ${group}, mode ${mode.toString(8).padStart(3, '0')}: ${who.name} (gids ${who.gids.join(',')}) cannot connect once HAProxy starts with this file`, `group ${who.name === 'ha-agent' ? 'ha-agent' : f.names(who.uid, who.gids[0]!).split(':')[1]} mode 660 on this line`))
  }
  return out
}

function namedIn(cfg: HaProxyCfg, rows: StatRow[] | undefined, config: NonNullable<AgentConfig['checks']['haproxy']>, path: string): Finding[] {
  const out: Finding[] = []
  const lists: Array<['backend' | 'frontend', string[], Map<string, number>, string]> = [
    ['backend', config.backends.map((b) => b.name), cfg.backends, 'BACKEND'],
    ['frontend', config.frontends ?? [], cfg.frontends, 'FRONTEND'],
  ]
  for (const [kind, names, inFile, sv] of lists) {
    names.forEach((name, i) => {
      const key = `checks.haproxy.${kind}s[${i}]`
      const line = inFile.get(name)
      const live = rows?.some((r) => r.pxname === name && r.svname === sv)
      if (line === undefined) {
        const known = [...inFile.keys()].join(', ') || 'none'
        out.push(error('haproxy.names', cfg.file, `no ${kind} ${name} in haproxy.cfg (${key} in ${path}; the file has ${known})`, `name the ${kind} in ${key} as haproxy.cfg does, or add it there`))
      } else if (rows && !live) {
        out.push(error('haproxy.names', `${cfg.file}:${line}`, `${kind} ${name} is in the file but not in the running HAProxy's show stat`, 'reload HAProxy (systemctl reload haproxy)'))
      } else out.push(ok('haproxy.names', `${cfg.file}:${line}`, `${kind} ${name} (${key}) is in the file${rows ? ' and in show stat' : ''}`))
    })
  }
  return out
}

/** The live socket: there, a socket, open to the daemon's user; HAProxy answering at the level the agent needs. */
async function live(socket: string, f: HaproxyFacts): Promise<{ findings: Finding[]; rows?: StatRow[] }> {
  const out: Finding[] = []
  const where = `socket ${socket}`
  let st
  try {
    st = f.stat(socket)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return { findings: [error('haproxy.live', where, code === 'ENOENT' ? 'no such socket: HAProxy is not running, or runs with another haproxy.cfg' : `cannot stat it (${code})`, 'systemctl status haproxy; check that the stats socket line names this path')] }
  }
  if (!st.isSocket()) return { findings: [error('haproxy.live', where, 'exists but is not a socket', `remove it and restart HAProxy`)] }
  if (f.daemonUser) {
    const a = mayAccess(socket, f.daemonUser, 'w', f.stat, f.names)
    if (!a.ok) out.push(error('haproxy.live', where, `${f.daemonUser.name} cannot connect: ${a.why}`, 'stats socket ... mode 660 level user group ha-agent, then reload HAProxy'))
  }
  let answer: string
  try {
    answer = await haproxyCommand(socket, 'show cli level;show info;show stat', f.timeoutMs)
  } catch (err) {
    out.push(error('haproxy.live', where, `HAProxy does not answer: ${(err as Error).message}`, 'systemctl status haproxy'))
    return { findings: out }
  }
  const [level = '', info = '', ...rest] = answer.split('\n\n')
  let rows: StatRow[] | undefined
  try {
    const version = parseShowInfo(info).Version
    rows = parseShowStat(rest.join('\n\n'))
    const lvl = level.trim()
    if (lvl !== 'user') out.push(warning('haproxy.live', where, `the running HAProxy serves this socket at level ${lvl || 'unknown'}: more than the agent needs`, 'level user on its stats socket line, then reload HAProxy'))
    out.push(ok('haproxy.live', where, `HAProxy ${version} answers show info and show stat at level ${lvl}${f.daemonUser ? `, and ${f.daemonUser.name} may connect` : ''}`))
  } catch (err) {
    out.push(error('haproxy.live', where, `not an HAProxy runtime API answer: ${(err as Error).message}`, 'point checks.haproxy.socket at HAProxy\'s stats socket'))
  }
  return { findings: out, ...(rows ? { rows } : {}) }
}

export async function checkHaproxy(cfg: HaProxyCfg | { file: string; error: string }, config: AgentConfig, f: HaproxyFacts): Promise<Finding[]> {
  const h = config.checks.haproxy
  const path = config.configPath ?? 'the config'
  if (!h) return [warning('haproxy.socket', path, 'no checks.haproxy: the daemon neither watches HAProxy nor writes a FAULT when it dies', 'checks.haproxy: { socket: /run/haproxy/ha-agent.sock, backends: [{ name: pgbouncers }] }')]
  const out: Finding[] = []
  const liveResult = await live(h.socket, f)
  if ('error' in cfg) return [error('haproxy.cfg', cfg.file, `cannot read: ${cfg.error}`, 'pass --haproxy-cfg PATH'), ...liveResult.findings]
  const s = cfg.sockets.find((x) => x.path && resolve(x.path) === resolve(h.socket))
  if (!s) {
    const others = cfg.sockets.map((x) => x.address).join(', ') || 'none'
    out.push(error('haproxy.socket', cfg.file, `no stats socket at ${h.socket} (checks.haproxy.socket in ${path}); the file declares ${others}`, `stats socket ${h.socket} mode 660 level user group ha-agent in the global section`))
  } else out.push(...(await declared(cfg, s, f)))
  out.push(...liveResult.findings, ...namedIn(cfg, liveResult.rows, h, path))
  return out
}
