// The daemon's verdict, published for the sh launcher (/usr/bin/ha-agent, source
// src/launcher/ha-agent.sh) so that keepalived's `ha-agent check` every second is
// answered by shell builtins, without starting Node.js.
//
// runtime_dir/verdict, one item per line:
//
//   ha-agent-verdict 1
//   exit 0                                    what `ha-agent check` exits with
//   config /etc/ha-agent/config.yaml          the absolute config path the daemon runs
//   lines 4                                   how many `text` lines follow
//   text haproxy   pass    1ms  HAProxy 2.6.12, pgbouncers 3/3 UP
//   text ...                                  what `ha-agent check` prints, line by line
//   text healthy (daemon)
//   json {"healthy":true,"checks":[...],...}  what `ha-agent check --json` prints
//
// The file's mtime is set into the future, to the verdict's expiry: it is fresh
// while its mtime is later than "now", which dash's `test -nt` can tell with no
// external process. The `text` lines come before the long `json` line and are
// counted, so that keepalived's plain `check` stops reading before the JSON
// (dash's `read` costs one system call per byte).
//
// Light on purpose: no config, no logger (the daemon calls it after every round).
import { readFileSync, rmSync, statSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import type { Verdict } from '../checks/types.js'
import { formatVerdict } from '../checks/format.js'
import { writeFileAtomic } from '../fs/atomic.js'

export const VERDICT_FILE = 'verdict'
export const VERDICT_HEADER = 'ha-agent-verdict 1'

/** What `ha-agent check` exits with and prints, as the daemon would answer it now. */
export interface PublishedVerdict {
  exitCode: 0 | 1
  /** absolute path of the config the daemon runs; `check` with another config never takes this answer */
  configPath: string
  /** printed as JSON by `check --json`, as text lines by `check` */
  verdict: Verdict
  /** ms epoch after which the verdict is stale and `check` asks Node (and through it the daemon) */
  expiresAt: number
}

/** The file's content (the expiry is its mtime). */
export function renderVerdictFile(v: Omit<PublishedVerdict, 'expiresAt'>): string {
  if (!v.configPath.startsWith('/') || /[\n\r]/.test(v.configPath)) throw new Error(`verdict file: config path must be absolute and one line: ${JSON.stringify(v.configPath)}`)
  // A detail with a line break prints as several lines: each is a text line of its own.
  const lines = formatVerdict(v.verdict).slice(0, -1).split('\n').map((l) => `text ${l}`)
  return [VERDICT_HEADER, `exit ${v.exitCode}`, `config ${v.configPath}`, `lines ${lines.length}`, ...lines, `json ${JSON.stringify(v.verdict)}`, ''].join('\n')
}

/**
 * Writes runtimeDir/verdict atomically, mode 0644 whatever the umask, its mtime
 * set to expiresAt before it appears, so the launcher never sees the new
 * content with a "now" mtime.
 */
export function writeVerdictFile(runtimeDir: string, v: PublishedVerdict): void {
  writeFileAtomic(join(runtimeDir, VERDICT_FILE), renderVerdictFile(v), { fsync: false, mode: 0o644, mtime: new Date(v.expiresAt) })
}

/** Moves the expiry of the verdict already published (same content); throws ENOENT when there is none. */
export function extendVerdictFile(runtimeDir: string, expiresAt: number): void {
  const at = new Date(expiresAt)
  utimesSync(join(runtimeDir, VERDICT_FILE), at, at)
}

/** On a clean stop: no verdict is better than one that outlives the daemon by its expiry. */
export function removeVerdictFile(runtimeDir: string): void {
  rmSync(join(runtimeDir, VERDICT_FILE), { force: true })
}

/** A verdict file as written, read back (the daemon's, or `check`'s own last answer); undefined when absent or malformed. */
export function readVerdictFile(path: string): (Omit<PublishedVerdict, 'expiresAt'> & { mtimeMs: number }) | undefined {
  let text: string
  let mtimeMs: number
  try {
    text = readFileSync(path, 'utf8')
    mtimeMs = statSync(path).mtimeMs
  } catch {
    return undefined
  }
  const lines = text.split('\n')
  const exit = /^exit ([01])$/.exec(lines[1] ?? '')
  const config = /^config (\/.*)$/.exec(lines[2] ?? '')
  const json = lines.find((l) => l.startsWith('json '))
  if (lines[0] !== VERDICT_HEADER || !exit || !config || !json) return undefined
  try {
    const verdict = JSON.parse(json.slice('json '.length)) as Verdict
    if (typeof verdict?.healthy !== 'boolean' || !Array.isArray(verdict.checks)) return undefined
    return { exitCode: exit[1] === '0' ? 0 : 1, configPath: config[1]!, verdict, mtimeMs }
  } catch {
    return undefined
  }
}
