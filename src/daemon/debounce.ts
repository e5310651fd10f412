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

  /**
   * What has been established for the check: `fail` once check.failed was
   * emitted, `pass` once check.recovered was or `rise` passes came in a row;
   * undefined before (just started: a check failing now has not reached `fall`).
   */
  status(name: string): 'pass' | 'fail' | undefined {
    return this.reported.get(name)
  }

  /** returns the events to emit for this result */
  feed(result: CheckResult): Array<'check.failed' | 'check.recovered'> {
    const s = this.streak.get(result.name)
    const streak = s && s.status === result.status ? { status: s.status, count: s.count + 1 } : { status: result.status, count: 1 }
    this.streak.set(result.name, streak)
    // Unknown start is treated as passing: a check that never passes reports a failure.
    const current = this.reported.get(result.name) ?? 'pass'
    if (streak.status === current) {
      // A check not known yet counts as passing for the events, but is only
      // established as passing (status()) after `rise` passes in a row.
      if (!this.reported.has(result.name) && streak.count >= this.rise) this.reported.set(result.name, current)
      return []
    }
    const needed = streak.status === 'fail' ? this.fall : this.rise
    if (streak.count < needed) return []
    this.reported.set(result.name, streak.status)
    return [streak.status === 'fail' ? 'check.failed' : 'check.recovered']
  }
}
