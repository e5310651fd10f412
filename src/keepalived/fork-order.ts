// keepalived forks one notify process per transition, often several within
// microseconds (BACKUP then MASTER at start-up). Node.js then takes a few hundred
// ms to start, in no particular order, so "now" inside notify does not tell which
// transition came first. The kernel does: the process start time (10 ms ticks
// since boot) and, within one tick, the PID, which keepalived's forks hand out in
// increasing order. This returns that order as microseconds since the epoch:
// tick time + PID within the tick. Falls back to now where /proc is missing.
import { readFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100 // USER_HZ, 100 on every Linux architecture Debian ships

export function forkOrderMicros(pid = process.pid): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const startTicks = Number(fields[19])
    // Boot time from now - uptime (10 ms precision); /proc/stat's btime is whole
    // seconds and would shift every timestamp by up to a second.
    const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
    if (!Number.isFinite(startTicks) || !Number.isFinite(uptimeSeconds)) throw new Error('unreadable /proc')
    const bootMicros = (performance.timeOrigin + performance.now()) * 1000 - uptimeSeconds * 1_000_000
    const tickMicros = Math.floor(bootMicros + (startTicks * 1_000_000) / TICKS_PER_SECOND)
    // Less than one tick (10 000 us) of room for the PID: forks in one tick differ by a few.
    return tickMicros + (pid % 10_000)
  } catch {
    return Math.floor((performance.timeOrigin + performance.now()) * 1000)
  }
}
