// Files whose absence or damage is a case their reader handles, not an error to
// throw: a /proc or sysfs entry of something that may be gone, a state file
// under state_dir that may never have been written. Loads only node:fs (the
// `check` fast path reads operator state through it).
import { readFileSync } from 'node:fs'

/** The file's text, or undefined when it cannot be read (whatever the reason). */
export function readQuietly(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** A JSON file read whole: its value; `missing` when it is not there (ENOENT); else the read's error, or JSON.parse's. */
export type JsonFile = { value: unknown } | { missing: true } | { unreadable: NodeJS.ErrnoException } | { invalid: Error }

export function readJsonFile(path: string): JsonFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return e.code === 'ENOENT' ? { missing: true } : { unreadable: e }
  }
  try {
    return { value: JSON.parse(text) as unknown }
  } catch (err) {
    return { invalid: err as Error }
  }
}
