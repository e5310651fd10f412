import type { CheckResult } from '../checks/index.js'

/**
 * Turns a stream of check results into check.failed / check.recovered events:
 * `fall` consecutive failures to report a failure, `rise` consecutive passes to
 * report recovery, so a flapping check cannot flood the webhooks.
 */
export class CheckDebouncer {
  private readonly reported = new Map<string, 'pass' | 'fail'>()
  private readonly streak = new Map<string, { status: 'pass' | 'fail'; count: number }>()

  constructor(
    private readonly fall: number,
    private readonly rise: number,
  ) {}

  /** returns the events to emit for this result */
  feed(result: CheckResult): Array<'check.failed' | 'check.recovered'> {
    const s = this.streak.get(result.name)
    const streak = s && s.status === result.status ? { status: s.status, count: s.count + 1 } : { status: result.status, count: 1 }
    this.streak.set(result.name, streak)
    // Unknown start is treated as passing: a check that never passes reports a failure.
    const current = this.reported.get(result.name) ?? 'pass'
    if (streak.status === current) {
      this.reported.set(result.name, current)
      return []
    }
    const needed = streak.status === 'fail' ? this.fall : this.rise
    if (streak.count < needed) return []
    this.reported.set(result.name, streak.status)
    return [streak.status === 'fail' ? 'check.failed' : 'check.recovered']
  }
}
