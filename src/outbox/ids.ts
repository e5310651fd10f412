import { randomBytes } from 'node:crypto'

// Event ids sort in the order the events happened, across processes (the
// daemon and any number of `ha-agent notify`): 14 hex digits of wall-clock
// microseconds, then random bits so two processes in the same microsecond never
// collide. A file name that sorts by time lets per-webhook queues be plain
// directories that any process may add to without a lock or a shared counter.
// No dots, as Standard Webhooks asks.
let lastMicros = 0

/**
 * Wall-clock microseconds: Date.now() for the milliseconds (so a daemon up for
 * months follows NTP like a fresh notify process does; timeOrigin + now() would
 * drift with the monotonic clock) and performance.now() for the digits below.
 */
export function wallMicros(): number {
  return Date.now() * 1000 + Math.floor((performance.now() * 1000) % 1000)
}

export function newEventId(nowMicros: number = wallMicros()): string {
  // Strictly increasing within this process even if the clock stalls.
  const micros = nowMicros > lastMicros ? nowMicros : lastMicros + 1
  lastMicros = micros
  return `msg_${micros.toString(16).padStart(14, '0')}${randomBytes(5).toString('hex')}`
}

/** ms epoch encoded in an id (for age checks without reading the file). */
export function eventIdTime(id: string): number {
  return parseInt(id.slice(4, 18), 16) / 1000
}

export function isEventId(id: string): boolean {
  return /^msg_[0-9a-f]{24}$/.test(id)
}

/** The microseconds since the epoch an id was made for (its order). */
export function eventIdMicros(id: string): number {
  return parseInt(id.slice(4, 18), 16)
}
