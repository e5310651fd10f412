import { randomBytes } from 'node:crypto'

// Event ids sort in the order the events happened, across processes: 14 hex
// digits of wall-clock microseconds (performance.timeOrigin + now() gives
// sub-millisecond resolution), then random bits so two processes in the same
// microsecond never collide. No dots, as Standard Webhooks asks.
let lastMicros = 0

export function newEventId(nowMicros: number = Math.floor((performance.timeOrigin + performance.now()) * 1000)): string {
  // Strictly increasing within this process even if the clock stalls.
  const micros = nowMicros > lastMicros ? nowMicros : lastMicros + 1
  lastMicros = micros
  return `msg_${micros.toString(16).padStart(14, '0')}${randomBytes(5).toString('hex')}`
}

/** ms epoch encoded in an id (for age checks without reading the file). */
export function eventIdTime(id: string): number {
  return parseInt(id.slice(4, 18), 16) / 1000
}
