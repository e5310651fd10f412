// keepalived's track_file: "1" = fault (with `weight 0` the instance goes FAULT
// at once, keepalived watches the file with inotify), "0" = healthy. Replaced
// atomically so keepalived never reads a half-written value; no fsync: it lives
// under /run (a tmpfs) and means nothing after a reboot.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'

export function writeTrackFile(path: string, fault: boolean): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
  writeFileAtomic(path, fault ? '1\n' : '0\n', { fsync: false, mode: 0o644 })
}
