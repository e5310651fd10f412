// Who may do what to a file, worked out as the kernel does it: search (x) on
// every directory above it, then the owner's, the group's or the others' bits
// of the file itself for the uid and the gids a process has. A unix socket is
// connected to with write permission on its file. doctor runs as root, so it
// cannot just try: it computes what the ha-agent user (the daemon) and
// keepalived's script_user would be allowed.
import { execFile } from 'node:child_process'
import { readFileSync, statSync, type Stats } from 'node:fs'
import { dirname, resolve } from 'node:path'

export interface Ids {
  /** a name for messages: the user name, or "uid 999" */
  name: string
  uid: number
  /** the primary gid first, then the supplementary ones the process has */
  gids: number[]
}

export type Want = 'r' | 'w' | 'x' | 'rw' | 'rwx'

export interface AccessAnswer {
  ok: boolean
  /** why not: the directory or file and its owner and mode */
  why?: string
}

/** uid and gid as names (from /etc/passwd and /etc/group), for messages; numbers where unknown. */
export function idNamer(read: (path: string) => string = (p) => readFileSync(p, 'utf8')): (uid: number, gid: number) => string {
  const table = (path: string) => {
    const m = new Map<number, string>()
    try {
      for (const line of read(path).split('\n')) {
        const [name, , id] = line.split(':')
        if (name && id && Number.isInteger(Number(id))) m.set(Number(id), name)
      }
    } catch {
      // numbers then
    }
    return m
  }
  const users = table('/etc/passwd')
  const groups = table('/etc/group')
  return (uid, gid) => `${users.get(uid) ?? uid}:${groups.get(gid) ?? gid}`
}

export type StatFn = (path: string) => Pick<Stats, 'uid' | 'gid' | 'mode' | 'isDirectory' | 'isSocket' | 'isFile'>

const BITS = { r: 4, w: 2, x: 1 }
const VERBS: Record<Want, string> = { r: 'read', w: 'write (connect to)', x: 'run', rw: 'read and write', rwx: 'create files in' }
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0')

function allowed(st: ReturnType<StatFn>, who: Ids, want: string): boolean {
  if (who.uid === 0) return want !== 'x' || st.isDirectory() || (st.mode & 0o111) !== 0
  const shift = st.uid === who.uid ? 6 : who.gids.includes(st.gid) ? 3 : 0
  const have = (st.mode >> shift) & 7
  return [...want].every((c) => (have & BITS[c as keyof typeof BITS]) !== 0)
}

/** Whether `who` may open `path` for `want`, and if not, which file or directory says no. */
export function mayAccess(path: string, who: Ids, want: Want, stat: StatFn = statSync, names: (uid: number, gid: number) => string = (u, g) => `${u}:${g}`): AccessAnswer {
  const full = resolve(path)
  const dirs: string[] = []
  for (let d = dirname(full); ; d = dirname(d)) {
    dirs.unshift(d)
    if (d === '/') break
  }
  for (const d of dirs) {
    let st
    try {
      st = stat(d)
    } catch (err) {
      return { ok: false, why: `${d}: ${(err as NodeJS.ErrnoException).code ?? 'cannot stat'}` }
    }
    if (!allowed(st, who, 'x')) return { ok: false, why: `directory ${d} is ${names(st.uid, st.gid)} ${octal(st.mode)}: ${who.name} cannot enter it` }
  }
  let st
  try {
    st = stat(full)
  } catch (err) {
    return { ok: false, why: `${full}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : ((err as NodeJS.ErrnoException).code ?? 'cannot stat')}` }
  }
  if (!allowed(st, who, want)) return { ok: false, why: `${full} is ${names(st.uid, st.gid)} ${octal(st.mode)}: ${who.name} (uid ${who.uid}, gids ${who.gids.join(',')}) may not ${VERBS[want]} it` }
  return { ok: true }
}

/** Runs a small program with a deadline; its stdout, or undefined when it fails. */
export function runQuiet(file: string, args: string[], timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(file, args, { timeout: timeoutMs, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } }, (err, stdout) => done(err ? undefined : stdout))
  })
}

/** A user's ids by name (NSS through `id`); `group` replaces the primary group; `supplementary: false` keeps only it. */
export async function lookupUser(user: string, opts: { group?: string; supplementary?: boolean; run?: typeof runQuiet } = {}): Promise<Ids | undefined> {
  const run = opts.run ?? runQuiet
  const [uid, gid, all] = await Promise.all([run('id', ['-u', '--', user]), run('id', ['-g', '--', user]), run('id', ['-G', '--', user])])
  if (uid === undefined || gid === undefined) return undefined
  let primary = Number(gid.trim())
  if (opts.group) {
    const line = await run('getent', ['group', opts.group])
    const g = line ? Number(line.split(':')[2]) : NaN
    if (!Number.isInteger(g)) return undefined
    primary = g
  }
  const extra = opts.supplementary === false ? [] : (all ?? '').trim().split(/\s+/).map(Number).filter((g) => Number.isInteger(g) && g !== primary)
  return { name: user, uid: Number(uid.trim()), gids: [primary, ...extra] }
}

/** A running process's ids from /proc/<pid>/status (what it really has: systemd's or setpriv's groups included). */
export function processIds(status: string, name?: string): Ids | undefined {
  const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim().split(/\s+/).filter(Boolean).map(Number)
  const uid = field('Uid')?.[0]
  const gid = field('Gid')?.[0]
  if (uid === undefined || gid === undefined || !Number.isInteger(uid)) return undefined
  const groups = (field('Groups') ?? []).filter((g) => Number.isInteger(g) && g !== gid)
  return { name: name ?? `uid ${uid}`, uid, gids: [gid, ...groups] }
}
