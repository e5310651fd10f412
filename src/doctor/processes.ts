// What runs on this host, as root sees it: keepalived's processes in this
// network namespace (with the config file and VRRP pid file their command line
// names), the ids of a running process, and the ha-agent unit's sandbox as
// systemd has it. Every read is of /proc or a bounded `systemctl show`.
import { readdirSync, readlinkSync } from 'node:fs'
import { resolve } from 'node:path'
import { readQuietly } from '../fs/read.js'
import { processIds, runQuiet, type Ids } from './access.js'

/** keepalived's defaults when its command line names none (keepalived 2.2 and 2.3, as Debian's unit starts them). */
export const KEEPALIVED_DEFAULT_CONF = '/etc/keepalived/keepalived.conf'
export const KEEPALIVED_DEFAULT_VRRP_PID = '/run/vrrp.pid'

export interface KeepalivedProcess {
  pid: number
  /** its parent is a keepalived too: a child (VRRP, checkers or BFD) */
  child: boolean
  configFile: string
  vrrpPidFile: string
}

/** `-f FILE`, `--use-file=FILE`, `-r FILE`, `--vrrp_pid FILE` ... from keepalived's argv. */
export function keepalivedArgs(argv: readonly string[]): { configFile: string; vrrpPidFile: string } {
  const value = (short: string, long: string): string | undefined => {
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i]!
      if (a === short || a === long) return argv[i + 1]
      if (a.startsWith(`${long}=`)) return a.slice(long.length + 1)
      if (a.startsWith(short) && a.length > short.length && !a.startsWith('--')) return a.slice(short.length)
    }
    return undefined
  }
  return { configFile: resolve(value('-f', '--use-file') ?? KEEPALIVED_DEFAULT_CONF), vrrpPidFile: resolve(value('-r', '--vrrp_pid') ?? KEEPALIVED_DEFAULT_VRRP_PID) }
}

const link = (path: string) => {
  try {
    return readlinkSync(path)
  } catch {
    return undefined
  }
}

/** keepalived's processes in this process's network namespace (the node's, in the lab), from /proc. */
export function keepalivedProcesses(procRoot = '/proc'): KeepalivedProcess[] {
  const ownNet = link(`${procRoot}/self/ns/net`)
  let names: string[]
  try {
    names = readdirSync(procRoot)
  } catch {
    return []
  }
  const comm = (pid: number | string) => readQuietly(`${procRoot}/${pid}/comm`)?.trim()
  const found: KeepalivedProcess[] = []
  for (const name of names) {
    if (!/^\d+$/.test(name) || comm(name) !== 'keepalived') continue
    const net = link(`${procRoot}/${name}/ns/net`)
    if (ownNet && net && net !== ownNet) continue
    const stat = readQuietly(`${procRoot}/${name}/stat`)
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : 0
    const argv = (readQuietly(`${procRoot}/${name}/cmdline`) ?? '').split('\0').filter(Boolean)
    found.push({ pid: Number(name), child: comm(ppid) === 'keepalived', ...keepalivedArgs(argv) })
  }
  return found.sort((a, b) => a.pid - b.pid)
}

/** The ids a running process has (its user named when /etc/passwd knows it). */
export function idsOfProcess(pid: number, procRoot = '/proc', names?: (uid: number, gid: number) => string): Ids | undefined {
  const status = readQuietly(`${procRoot}/${pid}/status`)
  if (!status) return undefined
  const ids = processIds(status)
  if (ids && names) ids.name = names(ids.uid, ids.gids[0]!).split(':')[0]!
  return ids
}

export interface UnitFacts {
  unit: string
  loaded: boolean
  privateUsers: string
  protectProc: string
  user: string
  dropIns: string[]
  /** the drop-in that sets PrivateUsers=, if one does */
  privateUsersIn?: string
}

/** `systemctl show` of the unit, when systemd runs this host (else undefined). */
export async function unitFacts(unit = 'ha-agent.service', opts: { systemdDir?: string; run?: typeof runQuiet } = {}): Promise<UnitFacts | undefined> {
  try {
    readdirSync(opts.systemdDir ?? '/run/systemd/system')
  } catch {
    return undefined
  }
  const out = await (opts.run ?? runQuiet)('systemctl', ['show', unit, '-p', 'LoadState', '-p', 'PrivateUsers', '-p', 'ProtectProc', '-p', 'User', '-p', 'DropInPaths'], 3000)
  if (out === undefined) return undefined
  const p = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  const dropIns = (p.DropInPaths ?? '').split(/\s+/).filter(Boolean)
  const privateUsersIn = dropIns.filter((f) => /^\s*PrivateUsers\s*=/m.test(readQuietly(f) ?? '')).at(-1)
  return {
    unit,
    loaded: p.LoadState === 'loaded',
    privateUsers: p.PrivateUsers ?? '',
    protectProc: p.ProtectProc ?? '',
    user: p.User ?? '',
    dropIns,
    ...(privateUsersIn ? { privateUsersIn } : {}),
  }
}
