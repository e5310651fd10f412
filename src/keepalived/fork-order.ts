// keepalived forks one notify process per transition, often several within
// microseconds (BACKUP then MASTER at start-up). Node.js then takes a few hundred
// ms to start, in no particular order, so "now" inside notify does not tell which
// transition came first. The kernel does: the process start time (10 ms ticks
// since boot) and, within one tick, the PID, which keepalived's forks hand out in
// increasing order. This returns that order as microseconds since the epoch:
// boot time + tick time + PID within the tick. Falls back to now where /proc is missing.
//
// The boot time must be the same number in every process, or the order between
// two forks of the same tick is noise: estimated as now - /proc/uptime it jitters
// by up to 10 ms (uptime has 10 ms resolution; measured spread 9.98 ms). So the
// first process after boot records its estimate in `cacheDir`, keyed by the
// kernel's btime (whole seconds, stable until the clock is stepped), and every
// later process uses that same value.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const TICKS_PER_SECOND = 100 // USER_HZ, 100 on every Linux architecture Debian ships
const CACHE_FILE = 'boot-clock'

function wallMicros(): number {
  return Date.now() * 1000 + Math.floor((performance.now() * 1000) % 1000)
}

function estimateBootMicros(): number {
  // /proc/stat's btime is whole seconds and would shift every timestamp by up to a second.
  const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  if (!Number.isFinite(uptimeSeconds)) throw new Error('unreadable /proc/uptime')
  return Math.round(wallMicros() - uptimeSeconds * 1_000_000)
}

function kernelBtime(): number {
  const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))
  if (!m) throw new Error('no btime in /proc/stat')
  return Number(m[1])
}

function readCache(path: string, btime: number): number | undefined {
  try {
    const [b, micros] = readFileSync(path, 'utf8').trim().split(' ').map(Number)
    return b === btime && Number.isFinite(micros) ? micros : undefined
  } catch {
    return undefined
  }
}

/** The boot time every process agrees on (see above); the estimate alone without a cache dir. */
export function sharedBootMicros(cacheDir?: string): number {
  const estimate = estimateBootMicros()
  if (!cacheDir) return estimate
  try {
    const btime = kernelBtime()
    const path = join(cacheDir, CACHE_FILE)
    const cached = readCache(path, btime)
    if (cached !== undefined) return cached
    const tmp = `${path}.${process.pid}.tmp`
    mkdirSync(cacheDir, { recursive: true, mode: 0o750 })
    try {
      writeFileSync(tmp, `${btime} ${estimate}\n`)
      // link() is exclusive: of two processes racing here, one value wins for both.
      linkSync(tmp, path)
      return estimate
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const winner = readCache(path, btime)
      if (winner !== undefined) return winner
      renameSync(tmp, path) // left over from an earlier boot (or clock step): replace it
      return estimate
    } finally {
      try {
        unlinkSync(tmp)
      } catch {
        /* renamed or never written */
      }
    }
  } catch {
    // No cache (read-only or full disk): the estimate still orders forks 10 ms apart.
    return estimate
  }
}

export function forkOrderMicros(pid = process.pid, cacheDir?: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const startTicks = Number(fields[19])
    if (!Number.isFinite(startTicks)) throw new Error('unreadable /proc')
    const tickMicros = sharedBootMicros(cacheDir) + Math.floor((startTicks * 1_000_000) / TICKS_PER_SECOND)
    // Less than one tick (10 000 us) of room for the PID: forks in one tick differ by a few.
    return tickMicros + (pid % 10_000)
  } catch {
    return wallMicros()
  }
}
