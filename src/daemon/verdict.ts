// What `ha-agent check` is told: the check loop's latest results when they are
// fresh, with the HAProxy watch's live view on top, and the relative-health rule
// (a failure every reachable peer shares is not this node's to act on).
import { configuredChecks, type CheckName, type CheckResult, type Verdict } from '../checks/index.js'
import type { AgentConfig } from '../config/index.js'
import type { DaemonState } from './state.js'

/** The loop starts a round interval_ms after the last one ended: results younger than this are its current view. */
export function freshFor(config: AgentConfig): number {
  return 2 * config.checks.interval_ms + config.checks.timeout_ms
}

function finish(checks: CheckResult[], state: DaemonState): Verdict {
  const w = state.haproxy
  if (w && !w.up) {
    checks = checks.map((c) => (c.name === 'haproxy' ? { ...c, status: 'fail', detail: w.detail, checkedAt: new Date(w.since).toISOString() } : c))
  }
  let healthy = checks.every((c) => c.status === 'pass')
  const f = state.fault
  if (!healthy && f.checkExit === 0 && f.shared && checks.every((c) => c.status === 'pass' || f.shared!.includes(c.name))) healthy = true
  return { healthy, checks, checkedAt: new Date().toISOString(), source: 'daemon' }
}

/** The verdict from what the daemon already knows, or undefined when its results are not fresh. */
export function knownVerdict(config: AgentConfig, state: DaemonState, only?: readonly CheckName[], now = Date.now()): Verdict | undefined {
  const wanted = only?.length ? only : configuredChecks(config)
  const latest = state.latest
  if (!latest || now - state.latestAt >= freshFor(config)) return undefined
  if (!wanted.every((n) => latest.checks.some((c) => c.name === n))) return undefined
  return finish(latest.checks.filter((c) => wanted.includes(c.name)), state)
}
