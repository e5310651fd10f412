// keepalived's track_file: "1" = fault (with `weight 0` the instance goes FAULT
// at once, keepalived watches the file with inotify), "0" = healthy. Replaced
// atomically so keepalived never reads a half-written value; no fsync: it lives
// under /run (a tmpfs) and means nothing after a reboot. It lives here, with
// keepalived's other interfaces, because two writers share it: the daemon
// (daemon/track-decision.ts) and `ha-agent check` while no daemon runs
// (checks/track-fallback.ts).
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'

/** What the file says for a decision: "1" (fault) or "0". */
export const trackValue = (fault: boolean): '1' | '0' => (fault ? '1' : '0')

export function writeTrackFile(path: string, fault: boolean): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
  writeFileAtomic(path, `${trackValue(fault)}\n`, { fsync: false, mode: 0o644 })
}

/** What the file says now, trimmed (whoever wrote it, whatever it is); undefined when it cannot be read. */
export function readTrackFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}
