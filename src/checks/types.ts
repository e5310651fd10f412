// A check result is plain data, never an exception (after gatus' result.go).

export const CHECK_NAMES = ['haproxy', 'pgbouncer', 'postgres', 'system'] as const
export type CheckName = (typeof CHECK_NAMES)[number]

export interface CheckResult {
  name: CheckName
  status: 'pass' | 'fail'
  latencyMs: number
  /** one line for people: why it failed, or what was seen */
  detail: string
  /** ISO-8601 */
  checkedAt: string
  /** structured findings (servers up per backend, clients waiting, VIPs present ...) */
  data?: Record<string, unknown>
}

export interface Verdict {
  healthy: boolean
  checks: CheckResult[]
  checkedAt: string
  /** who ran the checks: the daemon (over the control socket) or this process */
  source: 'daemon' | 'local'
}
