import type { AgentConfig } from '../config/index.js'
import { measured } from './deadline.js'
import { probeHaproxy, type HaproxyAsk } from './haproxy.js'
import { HeldProtocolProbes } from './held-probe.js'
import { PgSessionHolder } from './pg-held.js'
import { probePgbouncer, type PgbouncerHeld } from './pgbouncer.js'
import { probePostgres } from './postgres.js'
import { HeldAddresses, probeSystem } from './system.js'
import { CHECK_NAMES, type CheckName, type CheckResult, type Verdict } from './types.js'

export { CHECK_NAMES, type CheckName, type CheckResult, type Verdict } from './types.js'
export type { HaproxyAsk } from './haproxy.js'
export { probeProtocol, splitHostPort } from './pgbouncer.js'

/** The checks this config turns on, in a stable order. */
export function configuredChecks(config: AgentConfig): CheckName[] {
  return CHECK_NAMES.filter((name) => config.checks[name] !== undefined)
}

/**
 * The connections the daemon's check loop holds from round to round (a
 * PostgreSQL session, a connection per PgBouncer, admin-console sessions).
 * `ha-agent check` holds none: each of its probes opens and closes its own.
 */
export interface HeldConnections {
  postgres: PgSessionHolder
  pgbouncer: PgbouncerHeld
  /** HAProxy's runtime API on the watch's connection (set by the daemon) */
  haproxy?: HaproxyAsk
  /** the host's addresses (the system check's VIPs): tell it of a VRRP transition */
  addresses: HeldAddresses
  close(): void
}

export function createHeldConnections(): HeldConnections {
  const admin = new Map<string, PgSessionHolder>()
  const probes = new HeldProtocolProbes()
  const postgres = new PgSessionHolder()
  return {
    postgres,
    addresses: new HeldAddresses(),
    pgbouncer: {
      probes,
      admin(target) {
        let h = admin.get(target)
        if (!h) admin.set(target, (h = new PgSessionHolder()))
        return h
      },
    },
    close() {
      postgres.close()
      probes.close()
      for (const h of admin.values()) h.close()
      admin.clear()
    },
  }
}

/** One check under its deadline; never throws. */
export function runCheck(name: CheckName, config: AgentConfig, timeoutMs: number, held?: HeldConnections): Promise<CheckResult> {
  const c = config.checks
  return measured(name, timeoutMs, async (signal) => {
    switch (name) {
      case 'haproxy':
        if (c.haproxy) return probeHaproxy(c.haproxy, timeoutMs, held?.haproxy)
        break
      case 'pgbouncer':
        if (c.pgbouncer) return probePgbouncer(c.pgbouncer, timeoutMs, signal, held?.pgbouncer)
        break
      case 'postgres':
        if (c.postgres) return probePostgres(c.postgres, timeoutMs, signal, held?.postgres)
        break
      case 'system':
        if (c.system) return probeSystem(c.system, held?.addresses)
        break
    }
    return { ok: false, detail: `${name} check is not configured (checks.${name})` }
  })
}

export interface RunChecksOptions {
  only?: readonly CheckName[]
  timeoutMs?: number
  /** the daemon's held connections (createHeldConnections) */
  held?: HeldConnections
}

/** Runs the checks in parallel; resolves within the deadline whatever hangs. Never rejects. */
export async function runChecks(config: AgentConfig, opts: RunChecksOptions = {}): Promise<Verdict> {
  const names = opts.only?.length ? [...new Set(opts.only)] : configuredChecks(config)
  const timeoutMs = opts.timeoutMs ?? config.checks.timeout_ms
  const checks = await Promise.all(names.map((name) => runCheck(name, config, timeoutMs, opts.held)))
  return {
    healthy: checks.every((c) => c.status === 'pass'),
    checks,
    checkedAt: new Date().toISOString(),
    source: 'local',
  }
}
