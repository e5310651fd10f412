// keepalived forks one notify process per transition, often several within
// microseconds (BACKUP then MASTER at start-up). Node.js then takes a hundred ms
// or more to start, in no particular order, so "now" inside notify does not tell
// which transition came first. The kernel does: the process start time (10 ms
// ticks since boot) and, within one tick, the PID, which keepalived's forks hand
// out in increasing order. forkOrderMicros() returns that order as microseconds
// since the epoch: boot time + tick time + PID within the tick.
//
// The boot time must be the same number in every process, or the order between
// two forks of the same tick is noise: estimated as now - /proc/uptime it jitters
// by up to 10 ms (uptime has 10 ms resolution). So the first process after boot
// records its estimate in `cacheDir` (runtime_dir: a tmpfs, gone at reboot),
// keyed by the kernel's btime, and every later process uses that same value.
//
// The daemon runs with ProcSubset=pid (no /proc/uptime, no /proc/stat): it
// checks a notify's claimed order against /proc/<pid>/stat with the cached boot
// time, or an estimate from its own start (checkForkOrder).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { publishOnce, writeFileAtomic } from '../fs/atomic.js'
import { wallMicros } from '../outbox/ids.js'

const TICKS_PER_SECOND = 100 // USER_HZ, 100 on every Linux architecture Debian ships
const TICK_MICROS = 1_000_000 / TICKS_PER_SECOND
const CACHE_FILE = 'boot-clock'
/** how far a claimed fork order may be from what /proc says (boot estimates differ by ms; clocks get stepped) */
const TOLERANCE_MICROS = 2_000_000

/** The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1], starttime [19]); throws when unreadable. */
export function procStatFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

function startTicks(pid: number | 'self'): number {
  const ticks = Number(procStatFields(pid)[19])
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${pid}/stat`)
  return ticks
}

/** now - uptime: needs /proc/uptime (not in a ProcSubset=pid sandbox). */
function estimateFromUptime(): number {
  // /proc/stat's btime is whole seconds and would shift every timestamp by up to a second.
  const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  if (!Number.isFinite(uptimeSeconds)) throw new Error('unreadable /proc/uptime')
  return Math.round(wallMicros() - uptimeSeconds * 1_000_000)
}

/** When this process started, by its own clock, minus its start tick: needs only /proc/self. */
function estimateFromSelf(): number {
  return Math.round(performance.timeOrigin * 1000 - startTicks('self') * TICK_MICROS)
}

function estimateBootMicros(): number {
  try {
    return estimateFromUptime()
  } catch {
    return estimateFromSelf()
  }
}

function kernelBtime(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

function readCache(path: string): { btime: number; micros: number } | undefined {
  try {
    const [btime, micros] = readFileSync(path, 'utf8').trim().split(' ').map(Number)
    return Number.isFinite(btime) && Number.isFinite(micros) ? { btime: btime!, micros: micros! } : undefined
  } catch {
    return undefined
  }
}

/** The boot time every process agrees on (see above); only an estimate without a cache dir. */
export function sharedBootMicros(cacheDir?: string): number {
  const estimate = estimateBootMicros()
  if (!cacheDir) return estimate
  try {
    const path = join(cacheDir, CACHE_FILE)
    const btime = kernelBtime()
    const cached = readCache(path)
    if (cached && (btime === undefined ? Math.abs(cached.micros - estimate) < TOLERANCE_MICROS : cached.btime === btime)) return cached.micros
    // Without btime (sandboxed) we cannot key a new value: use the estimate, publish nothing.
    if (btime === undefined) return estimate
    const line = `${btime} ${estimate}\n`
    if (cached) {
      // Left over from an earlier boot or before a clock step: replace it.
      writeFileAtomic(path, line, { fsync: false })
      return estimate
    }
    // link() is exclusive: of two processes racing here, one value wins for both.
    if (publishOnce(path, line, { fsync: false })) return estimate
    return readCache(path)?.micros ?? estimate
  } catch {
    // No cache (read-only, full): the estimate still orders forks 10 ms apart.
    return estimate
  }
}

/** The order of `pid`'s fork, as microseconds since the epoch; now when /proc says nothing. */
export function forkOrderMicros(pid = process.pid, cacheDir?: string): number {
  try {
    const tickMicros = sharedBootMicros(cacheDir) + Math.floor(startTicks(pid) * TICK_MICROS)
    // Less than one tick (10 000 us) of room for the PID: forks in one tick differ by a few.
    return tickMicros + (pid % 10_000)
  } catch {
    return wallMicros()
  }
}

/**
 * Whether `orderMicros` (from an id a notify process chose) is the fork order of
 * `pid`: the process exists, is visible to us, and started then (within a
 * tolerance). The daemon records a notify's transition only then: a client of
 * the control socket cannot back-date an event or claim another process's place.
 */
export function checkForkOrder(pid: number, orderMicros: number, cacheDir?: string): { ok: true } | { ok: false; reason: string } {
  let ticks: number
  try {
    ticks = startTicks(pid)
  } catch {
    return { ok: false, reason: `process ${pid} is not visible here (gone, or another user's)` }
  }
  const expected = sharedBootMicros(cacheDir) + Math.floor(ticks * TICK_MICROS) + (pid % 10_000)
  const off = orderMicros - expected
  if (Math.abs(off) > TOLERANCE_MICROS) return { ok: false, reason: `the id's time is ${(off / 1e6).toFixed(3)} s from when process ${pid} started` }
  return { ok: true }
}
