// Files that other processes read while we write them: keepalived (track_file),
// `ha-agent notify` and the daemon (VRRP state, outbox), the check launcher
// (verdict). One way to write them, with the durability each caller needs named
// at the call: `fsync` for what must survive a power cut (the outbox, the VRRP
// state under state_dir), none for what lives on a tmpfs under /run.
import { closeSync, fchmodSync, fsyncSync, futimesSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export interface AtomicWriteOptions {
  /** fsync the data before the rename (and the directory after it) */
  fsync: boolean
  /** the file's mode, exactly (whatever the umask); else 0640 less the umask */
  mode?: number
  /** set the file's mtime before it appears (the check launcher reads a verdict's expiry from it) */
  mtime?: Date
}

/** Removes `path` if it is there (a temp file never created, or already moved). */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    /* not there */
  }
}

/** Links `existing` as `path` unless `path` exists: false then, and `path` keeps what it had. */
export function linkUnlessExists(existing: string, path: string): boolean {
  try {
    linkSync(existing, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/** Creates `path` with `data` (fails with EEXIST if it exists), optionally fsync'd. */
export function createFile(path: string, data: string | Uint8Array, opts: { fsync: boolean; mode?: number; mtime?: Date }): void {
  const fd = openSync(path, 'wx', opts.mode ?? 0o640)
  try {
    if (typeof data === 'string') writeSync(fd, data)
    else writeSync(fd, data)
    if (opts.mode !== undefined) fchmodSync(fd, opts.mode)
    if (opts.mtime) futimesSync(fd, new Date(), opts.mtime)
    if (opts.fsync) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** fsync a directory, so that names created or removed in it survive a crash. */
export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Writes `data` to a temp file beside `path` and returns its name; one left by
 * a crash of an earlier process with this pid (containers reuse low pids) is
 * replaced. On failure no temp file is left.
 */
function tempBeside(path: string, data: string | Uint8Array, opts: AtomicWriteOptions): string {
  const tmp = `${path}.${process.pid}.tmp`
  removeQuietly(tmp)
  try {
    createFile(tmp, data, opts)
  } catch (err) {
    removeQuietly(tmp)
    throw err
  }
  return tmp
}

/**
 * Replaces `path` so that a reader sees the old content or the new one, never a
 * torn file: a temp file beside it, then rename. On failure the temp file is
 * removed, the old content stays, and the error is thrown.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions): void {
  const tmp = tempBeside(path, data, opts)
  try {
    renameSync(tmp, path)
  } catch (err) {
    removeQuietly(tmp)
    throw err
  }
  if (opts.fsync) fsyncDir(dirname(path))
}

/**
 * Publishes `data` at `path` unless another process got there first: returns
 * false (and leaves the winner's content) when `path` already exists. link() is
 * the exclusive step, so readers never see a partly written file.
 */
export function publishOnce(path: string, data: string, opts: { fsync: boolean; mode?: number }): boolean {
  const tmp = tempBeside(path, data, opts)
  try {
    return linkUnlessExists(tmp, path)
  } finally {
    removeQuietly(tmp)
  }
}
