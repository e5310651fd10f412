// What of keepalived.conf doctor reasons about, with keepalived's defaults
// (keepalived.conf(5), keepalived 2.2): the global script user and FIFOs, the
// track files and vrrp_scripts, the instances and what they track and notify,
// and the sync groups (a group's notify and tracking count for its members).
import { scriptArgv, type KaConfig, type KaNode } from './keepalived-parse.js'

export interface KaRef {
  name: string
  /** the weight written on the reference (`ha_agent_fault weight 0`), if any */
  weight?: number
  reverse: boolean
  node: KaNode
}

export interface KaTrackFile {
  name: string
  file?: string
  /** the block's own weight; keepalived's default is 1 */
  weight: number
  node: KaNode
}

export interface KaScript {
  name: string
  argv: string[]
  /** seconds, as keepalived reads them (whole, at least 1); undefined: not written */
  interval?: number
  timeout?: number
  /** keepalived's default is 0: a failure is a FAULT */
  weight: number
  user?: string
  node: KaNode
}

export interface KaNotify {
  kind: 'notify' | 'notify_master' | 'notify_backup' | 'notify_fault' | 'notify_stop'
  argv: string[]
  node: KaNode
}

export interface KaInstance {
  name: string
  node: KaNode
  priority?: number
  priorityNode?: KaNode
  /** seconds; keepalived's default is 1 */
  advertInt?: number
  advertNode?: KaNode
  /** the instance's own `version`, else global_defs' vrrp_version */
  version?: number
  trackFiles: KaRef[]
  trackScripts: KaRef[]
  notify: KaNotify[]
  /** the sync group it belongs to */
  group?: KaGroup
}

export interface KaGroup {
  name: string
  members: string[]
  trackFiles: KaRef[]
  trackScripts: KaRef[]
  notify: KaNotify[]
  node: KaNode
}

export interface KaModel {
  globalDefs?: KaNode
  enableScriptSecurity?: KaNode
  scriptUser?: { user: string; group?: string; node: KaNode }
  vrrpVersion?: { version: number; node: KaNode }
  /** notify_fifo and vrrp_notify_fifo of global_defs */
  fifos: Array<{ path: string; node: KaNode }>
  trackFiles: KaTrackFile[]
  scripts: KaScript[]
  instances: KaInstance[]
  groups: KaGroup[]
}

const NOTIFY_KINDS = ['notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop'] as const

const num = (s: string | undefined) => (s !== undefined && s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : undefined)
/** keepalived reads a script's interval and timeout with strtoul: whole seconds, at least 1 */
const wholeSeconds = (s: string | undefined) => (num(s) === undefined ? undefined : Math.max(1, Math.trunc(num(s)!)))
const child = (n: KaNode, keyword: string) => n.children?.find((c) => c.keyword === keyword)

function refs(block: KaNode | undefined): KaRef[] {
  return (block?.children ?? []).map((c) => {
    const w = c.args.indexOf('weight')
    return { name: c.keyword, ...(w >= 0 && num(c.args[w + 1]) !== undefined ? { weight: num(c.args[w + 1])! } : {}), reverse: c.args.includes('reverse'), node: c }
  })
}

function notifies(n: KaNode): KaNotify[] {
  return (n.children ?? [])
    .filter((c): c is KaNode & { keyword: KaNotify['kind'] } => (NOTIFY_KINDS as readonly string[]).includes(c.keyword))
    // `notify "cmd args" [user [group]]`: the command is the first word (quoted when it has arguments)
    .map((c) => ({ kind: c.keyword, argv: scriptArgv(c.args.slice(0, 1)), node: c }))
}

export function buildModel(cfg: KaConfig): KaModel {
  const m: KaModel = { fifos: [], trackFiles: [], scripts: [], instances: [], groups: [] }
  for (const n of cfg.nodes) {
    if (n.keyword === 'global_defs') {
      m.globalDefs = n
      for (const c of n.children ?? []) {
        if (c.keyword === 'enable_script_security') m.enableScriptSecurity = c
        else if (c.keyword === 'script_user' && c.args[0]) m.scriptUser = { user: c.args[0], ...(c.args[1] ? { group: c.args[1] } : {}), node: c }
        else if (c.keyword === 'vrrp_version' && num(c.args[0]) !== undefined) m.vrrpVersion = { version: num(c.args[0])!, node: c }
        else if ((c.keyword === 'notify_fifo' || c.keyword === 'vrrp_notify_fifo') && c.args[0]) m.fifos.push({ path: c.args[0], node: c })
      }
    } else if ((n.keyword === 'track_file' || n.keyword === 'vrrp_track_file') && n.args[0] && n.children) {
      const weight = child(n, 'weight')
      const file = child(n, 'file')?.args[0]
      m.trackFiles.push({ name: n.args[0], ...(file ? { file } : {}), weight: num(weight?.args[0]) ?? 1, node: n })
    } else if (n.keyword === 'vrrp_script' && n.args[0]) {
      const script = child(n, 'script')
      const user = child(n, 'user')?.args[0]
      const interval = wholeSeconds(child(n, 'interval')?.args[0])
      const timeout = wholeSeconds(child(n, 'timeout')?.args[0])
      m.scripts.push({
        name: n.args[0],
        argv: scriptArgv(script?.args ?? []),
        ...(interval !== undefined ? { interval } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        weight: num(child(n, 'weight')?.args[0]) ?? 0,
        ...(user ? { user } : {}),
        node: n,
      })
    } else if (n.keyword === 'vrrp_sync_group' && n.args[0]) {
      m.groups.push({
        name: n.args[0],
        members: (child(n, 'group')?.children ?? []).map((c) => c.keyword),
        trackFiles: refs(child(n, 'track_file')),
        trackScripts: refs(child(n, 'track_script')),
        notify: notifies(n),
        node: n,
      })
    } else if (n.keyword === 'vrrp_instance' && n.args[0]) {
      const priority = child(n, 'priority')
      const advert = child(n, 'advert_int')
      const version = num(child(n, 'version')?.args[0])
      m.instances.push({
        name: n.args[0],
        node: n,
        ...(priority && num(priority.args[0]) !== undefined ? { priority: num(priority.args[0])!, priorityNode: priority } : {}),
        ...(advert && num(advert.args[0]) !== undefined ? { advertInt: num(advert.args[0])!, advertNode: advert } : {}),
        ...(version !== undefined ? { version } : {}),
        trackFiles: refs(child(n, 'track_file')),
        trackScripts: refs(child(n, 'track_script')),
        notify: notifies(n),
      })
    }
  }
  for (const i of m.instances) {
    const group = m.groups.find((g) => g.members.includes(i.name))
    if (group) i.group = group
    if (i.version === undefined && m.vrrpVersion) i.version = m.vrrpVersion.version
  }
  return m
}

/** What an instance tracks, its own references first, then its sync group's. */
export const trackedFiles = (i: KaInstance): KaRef[] => [...i.trackFiles, ...(i.group?.trackFiles ?? [])]
export const trackedScripts = (i: KaInstance): KaRef[] => [...i.trackScripts, ...(i.group?.trackScripts ?? [])]
export const notifiesOf = (i: KaInstance): KaNotify[] => [...i.notify, ...(i.group?.notify ?? [])]

/** An argv that runs `ha-agent <command>` (the launcher, or Node.js running the bundle). */
export function callsHaAgent(argv: readonly string[], command: string): boolean {
  const at = argv.findIndex((a) => /(^|\/)ha-agent(\.m?js)?$/.test(a))
  return at >= 0 && argv[at + 1] === command
}

/** The `--timeout MS` an `ha-agent check` argv passes, if any. */
export function checkTimeoutArg(argv: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = a === '--timeout' ? argv[i + 1] : a.startsWith('--timeout=') ? a.slice('--timeout='.length) : undefined
    if (v !== undefined && Number.isInteger(Number(v)) && Number(v) > 0) return Number(v)
  }
  return undefined
}
