// keepalived.conf read the way keepalived reads it (keepalived.conf(5)), into a
// tree of statements that keep their file and line, so that a finding can say
// `/etc/keepalived/keepalived.conf:42: ...`:
// - a statement is a keyword and its words on one line; `{` opens a block (on
//   the same line or the next), `}` closes it, and both are words of their own
//   wherever they stand (`track_file { ha_agent_fault weight 0 }` is a block with
//   one statement);
// - comments start with `#` or `!` outside quotes and run to the end of the line;
// - "..." and '...' quote (the quotes go, the spaces stay; `ab"c d"e` is one
//   word), with the manual's escapes inside them;
// - `include FILE` (and includer, includem, includew, includeb, includea) puts the
//   files FILE names in place, FILE relative to the including file's directory,
//   with wildcards (* ? [...]) and {a,b} braces;
// - `$NAME=value` defines a parameter that `$NAME` and `${NAME}` stand for later.
// Not evaluated: `@name` conditional lines (they depend on keepalived's -i).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { splitWords, type WordRules } from './words.js'

export interface KaNode {
  keyword: string
  args: string[]
  file: string
  line: number
  /** the statements of its block, when it opens one */
  children?: KaNode[]
}

export interface KaProblem {
  file: string
  line: number
  message: string
  /** an include that matches no file is a warning (keepalived's own `include` says nothing) */
  severity: 'error' | 'warning'
}

export interface KaConfig {
  nodes: KaNode[]
  /** every file read, the main one first */
  files: string[]
  problems: KaProblem[]
}

const INCLUDES = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea'])
const MAX_INCLUDE_DEPTH = 8
const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

const KEEPALIVED_WORDS: WordRules = { comments: '#!', own: '{}', escapes: (quote) => quote !== undefined, escaped: ESCAPES }

/** A line's words: quotes and escapes resolved, comments cut, `{` and `}` words of their own. */
export function tokenize(line: string): string[] {
  return splitWords(line, KEEPALIVED_WORDS)
}

/** Splits a script's command line into argv as keepalived does: on unquoted spaces, '...' (and "...") quoting. */
export function scriptArgv(words: readonly string[]): string[] {
  return words.flatMap((w) => splitWords(w, {}))
}

/** {a,b}c -> ac, bc (nested braces too). */
function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{')
  if (open < 0) return [pattern]
  let depth = 0
  const parts: string[] = []
  let start = open + 1
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++
    else if (pattern[i] === '}' && --depth === 0) {
      parts.push(pattern.slice(start, i))
      return parts.flatMap((p) => expandBraces(pattern.slice(0, open) + p + pattern.slice(i + 1)))
    } else if (pattern[i] === ',' && depth === 1) {
      parts.push(pattern.slice(start, i))
      start = i + 1
    }
  }
  return [pattern]
}

const globRe = (segment: string) =>
  new RegExp('^' + segment.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\[!/g, '[^') + '$')

/** The files a glob names, sorted as glob(3) sorts them; a name without wildcards is kept as it is. */
export function expandGlob(pattern: string, listDir: (dir: string) => string[] = (d) => readdirSync(d)): string[] {
  const out: string[] = []
  for (const p of expandBraces(pattern)) {
    let paths = [p.startsWith('/') ? '/' : '']
    for (const seg of p.split('/').filter(Boolean)) {
      if (!/[*?[]/.test(seg)) {
        paths = paths.map((b) => join(b || '.', seg))
        continue
      }
      const re = globRe(seg)
      paths = paths.flatMap((b) => {
        try {
          return listDir(b || '.').filter((n) => re.test(n) && (!n.startsWith('.') || seg.startsWith('.'))).sort().map((n) => join(b || '.', n))
        } catch {
          return []
        }
      })
    }
    out.push(...paths)
  }
  return out
}

interface Line {
  words: string[]
  file: string
  line: number
}

const tryRead = (read: (f: string) => string, file: string): string | NodeJS.ErrnoException => {
  try {
    return read(file)
  } catch (err) {
    return err as NodeJS.ErrnoException
  }
}

function readLines(file: string, text: string, read: (f: string) => string, depth: number, vars: Map<string, string>, cfg: KaConfig): Line[] {
  cfg.files.push(file)
  const out: Line[] = []
  text.split('\n').forEach((raw, i) => {
    const def = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw)
    if (def) return void vars.set(def[1]!, def[2]!.trim())
    if (/^\s*@/.test(raw)) return // conditional on keepalived's -i: not evaluated
    const line = raw.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a, b) => vars.get(a ?? b) ?? m)
    const words = tokenize(line)
    if (!words.length) return
    if (INCLUDES.has(words[0]!) && words.length >= 2) {
      if (depth >= MAX_INCLUDE_DEPTH) return void cfg.problems.push({ file, line: i + 1, message: `includes nested deeper than ${MAX_INCLUDE_DEPTH}`, severity: 'error' })
      const pattern = isAbsolute(words[1]!) ? words[1]! : join(dirname(file), words[1]!)
      const texts = expandGlob(pattern).map((f) => [resolve(f), tryRead(read, resolve(f))] as const)
      const found = texts.filter(([, t]) => typeof t === 'string' || t.code !== 'ENOENT')
      if (!found.length) cfg.problems.push({ file, line: i + 1, message: `${words[0]} ${words[1]}: no file matches, so nothing is included`, severity: 'warning' })
      for (const [f, t] of found) {
        if (typeof t === 'string') out.push(...readLines(f, t, read, depth + 1, vars, cfg))
        else cfg.problems.push({ file, line: i + 1, message: `${words[0]} ${f}: cannot read (${t.code ?? t.message})`, severity: 'error' })
      }
      return
    }
    out.push({ words, file, line: i + 1 })
  })
  return out
}

/** Reads keepalived.conf and what it includes into statements; problems (unbalanced braces, unreadable files) are listed, never thrown. */
export function parseKeepalivedConf(path: string, read: (f: string) => string = (f) => readFileSync(f, 'utf8')): KaConfig {
  const cfg: KaConfig = { nodes: [], files: [], problems: [] }
  const text = tryRead(read, resolve(path))
  if (typeof text !== 'string') {
    cfg.problems.push({ file: resolve(path), line: 0, message: `cannot read: ${text.code ?? text.message}`, severity: 'error' })
    return cfg
  }
  const lines = readLines(resolve(path), text, read, 0, new Map(), cfg)
  const stack: KaNode[][] = [cfg.nodes]
  const opened: KaNode[] = []
  for (const l of lines) {
    let current: KaNode | undefined
    for (const w of l.words) {
      const level = stack[stack.length - 1]!
      if (w === '{') {
        // `name args {`, or `{` at the start of the line after `name args`
        const owner = current ?? level[level.length - 1]
        const block = owner && !owner.children ? owner : { keyword: '{', args: [], file: l.file, line: l.line }
        if (block !== owner) cfg.problems.push({ file: l.file, line: l.line, message: "'{' without a keyword before it", severity: 'error' })
        block.children = []
        stack.push(block.children)
        opened.push(block)
        current = undefined
      } else if (w === '}') {
        if (stack.length === 1) cfg.problems.push({ file: l.file, line: l.line, message: "'}' closes no block", severity: 'error' })
        else {
          stack.pop()
          opened.pop()
        }
        current = undefined
      } else if (current) current.args.push(w)
      else {
        current = { keyword: w, args: [], file: l.file, line: l.line }
        level.push(current)
      }
    }
  }
  for (const n of opened) cfg.problems.push({ file: n.file, line: n.line, message: `the block of ${n.keyword} is never closed`, severity: 'error' })
  return cfg
}
