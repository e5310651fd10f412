// What doctor reads of haproxy.cfg: the `stats socket` lines of the global
// section with their bind options (mode, level, user/uid, group/gid), and the
// names of the frontends, backends and listens, each with its line. HAProxy's
// syntax: sections start at a keyword in the first column's sense (a line
// whose first word is a section keyword), `#` starts a comment outside quotes,
// "..." and '...' quote and `\` escapes.
import { readFileSync } from 'node:fs'
import { splitWords, type WordRules } from './words.js'

export interface HaSocket {
  /** the path, without a `unix@` prefix; undefined for a TCP stats socket */
  path?: string
  address: string
  mode?: number
  /** HAProxy's default is operator */
  level: 'user' | 'operator' | 'admin' | string
  levelWritten: boolean
  user?: string
  group?: string
  line: number
}

export interface HaProxyCfg {
  file: string
  sockets: HaSocket[]
  /** name -> line; a listen section is both */
  frontends: Map<string, number>
  backends: Map<string, number>
}

const SECTIONS = new Set(['global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'resolvers', 'userlist', 'program', 'http-errors', 'ring', 'mailers', 'cache', 'fcgi-app', 'crt-store', 'traces', 'log-forward'])

const HAPROXY_WORDS: WordRules = { comments: '#', escapes: (quote) => quote !== "'" }

/** A line's words: `#` comments cut, `\` escapes the next character outside '...' (taken as it is). */
export function haWords(line: string): string[] {
  return splitWords(line, HAPROXY_WORDS)
}

export function parseHaproxyCfg(file: string, text: string = readFileSync(file, 'utf8')): HaProxyCfg {
  const cfg: HaProxyCfg = { file, sockets: [], frontends: new Map(), backends: new Map() }
  let section = ''
  text.split('\n').forEach((raw, i) => {
    const w = haWords(raw)
    if (!w.length) return
    if (SECTIONS.has(w[0]!)) {
      section = w[0]!
      const name = w[1]
      if (name && (section === 'frontend' || section === 'listen')) cfg.frontends.set(name, i + 1)
      if (name && (section === 'backend' || section === 'listen')) cfg.backends.set(name, i + 1)
      return
    }
    if (section !== 'global' || w[0] !== 'stats' || w[1] !== 'socket' || !w[2]) return
    const address = w[2]
    const opt = (k: string) => {
      const at = w.indexOf(k, 3)
      return at >= 0 ? w[at + 1] : undefined
    }
    const path = address.startsWith('unix@') ? address.slice(5) : /^[a-z0-9]+@/.test(address) || /^[^/]*:\d+$/.test(address) ? undefined : address
    const mode = opt('mode')
    cfg.sockets.push({
      ...(path ? { path } : {}),
      address,
      ...(mode && /^[0-7]+$/.test(mode) ? { mode: parseInt(mode, 8) } : {}),
      level: opt('level') ?? 'operator',
      levelWritten: opt('level') !== undefined,
      ...(opt('user') ?? opt('uid') ? { user: (opt('user') ?? opt('uid'))! } : {}),
      ...(opt('group') ?? opt('gid') ? { group: (opt('group') ?? opt('gid'))! } : {}),
      line: i + 1,
    })
  })
  return cfg
}
