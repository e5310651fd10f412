// keepalived's track_file: "1" = fault (with `weight 0` the instance goes FAULT
// at once, keepalived watches the file with inotify), "0" = healthy. Written to a
// temp file and renamed so keepalived never reads a half-written value.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export function writeTrackFile(path: string, fault: boolean): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, fault ? '1\n' : '0\n', { mode: 0o644 })
  renameSync(tmp, path)
}
