import type { AgentConfig } from '../config/index.js'
import { measured } from './deadline.js'
import { probeHaproxy } from './haproxy.js'
import { probePgbouncer } from './pgbouncer.js'
import { probePostgres } from './postgres.js'
import { probeSystem } from './system.js'
import { CHECK_NAMES, type CheckName, type CheckResult, type Verdict } from './types.js'

export { CHECK_NAMES, type CheckName, type CheckResult, type Verdict } from './types.js'
export { probeProtocol, splitHostPort } from './pgbouncer.js'

/** The checks this config turns on, in a stable order. */
export function configuredChecks(config: AgentConfig): CheckName[] {
  return CHECK_NAMES.filter((name) => config.checks[name] !== undefined)
}

/** One check under its deadline; never throws. */
export function runCheck(name: CheckName, config: AgentConfig, timeoutMs: number): Promise<CheckResult> {
  const c = config.checks
  return measured(name, timeoutMs, async (signal) => {
    switch (name) {
      case 'haproxy':
        if (c.haproxy) return probeHaproxy(c.haproxy, timeoutMs)
        break
      case 'pgbouncer':
        if (c.pgbouncer) return probePgbouncer(c.pgbouncer, timeoutMs, signal)
        break
      case 'postgres':
        if (c.postgres) return probePostgres(c.postgres, timeoutMs, signal)
        break
      case 'system':
        if (c.system) return probeSystem(c.system)
        break
    }
    return { ok: false, detail: `${name} check is not configured (checks.${name})` }
  })
}

export interface RunChecksOptions {
  only?: readonly CheckName[]
  timeoutMs?: number
}

/** Runs the checks in parallel; resolves within the deadline whatever hangs. Never rejects. */
export async function runChecks(config: AgentConfig, opts: RunChecksOptions = {}): Promise<Verdict> {
  const names = opts.only?.length ? [...new Set(opts.only)] : configuredChecks(config)
  const timeoutMs = opts.timeoutMs ?? config.checks.timeout_ms
  const checks = await Promise.all(names.map((name) => runCheck(name, config, timeoutMs)))
  return {
    healthy: checks.every((c) => c.status === 'pass'),
    checks,
    checkedAt: new Date().toISOString(),
    source: 'local',
  }
}
