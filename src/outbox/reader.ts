// Reading a queue in order without holding it in memory: a webhook that is down
// for a day may have a long queue on disk, but a reader keeps only a window of
// the oldest names (streamed from the directory, never the file contents).
import { opendirSync } from 'node:fs'

export interface QueueWindow {
  /** the oldest names (ids + ".json"), sorted, at most `limit` */
  names: string[]
  /** how many events the queue holds in all */
  total: number
}

/** How many events `dir` holds; 0 when it cannot be read (a count for /status, never a reason to fail). */
export function countEvents(dir: string): number {
  try {
    return oldestEvents(dir, 0).total
  } catch {
    return 0
  }
}

/** The `limit` oldest event files in `dir` (ids sort by time), and the count of all. */
export function oldestEvents(dir: string, limit: number): QueueWindow {
  const names: string[] = []
  let total = 0
  let handle
  try {
    handle = opendirSync(dir, { bufferSize: 256 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { names, total }
    throw err
  }
  try {
    for (let entry = handle.readSync(); entry; entry = handle.readSync()) {
      const name = entry.name
      if (!name.endsWith('.json')) continue
      total++
      if (limit <= 0) continue
      if (names.length === limit && name >= names[limit - 1]!) continue
      // Binary insertion keeps the window sorted: O(log limit) per entry.
      let lo = 0
      let hi = names.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (names[mid]! < name) lo = mid + 1
        else hi = mid
      }
      names.splice(lo, 0, name)
      if (names.length > limit) names.pop()
    }
  } finally {
    handle.closeSync()
  }
  return { names, total }
}
