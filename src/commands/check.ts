// `ha-agent check`: what keepalived's vrrp_script runs. Asks the daemon for its
// fresh verdict over the control socket (no probes from this process at all);
// without a daemon it probes itself. Either way it answers within --timeout.
import type { Command } from '../cli/context.js'
import { parseCommandArgs, parseMs } from '../cli/args.js'
import { CHECK_NAMES, runChecks, type CheckName, type Verdict } from '../checks/index.js'
import { controlRequest, controlSocketPath, ControlUnavailable } from '../control/client.js'
import { EXIT, UsageError } from '../errors/index.js'

function parseOnly(value: string | undefined): CheckName[] | undefined {
  if (!value) return undefined
  const names = value.split(',').map((s) => s.trim()).filter(Boolean)
  for (const n of names) {
    if (!(CHECK_NAMES as readonly string[]).includes(n)) throw new UsageError(`check: unknown check "${n}" (valid: ${CHECK_NAMES.join(', ')})`)
  }
  return names as CheckName[]
}

async function verdictFromDaemonOrLocal(
  socket: string,
  only: CheckName[] | undefined,
  timeoutMs: number,
  local: () => Promise<Verdict>,
): Promise<Verdict> {
  try {
    const res = await controlRequest(socket, { op: 'check', ...(only ? { only } : {}), timeoutMs }, timeoutMs + 100)
    if (res.ok && 'verdict' in res) return res.verdict
    throw new Error('error' in res ? res.error : 'unexpected daemon answer')
  } catch (err) {
    if (err instanceof ControlUnavailable) return local()
    throw err
  }
}

export function formatVerdict(v: Verdict): string {
  const lines = v.checks.map((c) => `${c.name.padEnd(9)} ${c.status} ${String(Math.round(c.latencyMs)).padStart(4)}ms  ${c.detail}`)
  lines.push(`${v.healthy ? 'healthy' : 'UNHEALTHY'} (${v.source})`)
  return lines.join('\n') + '\n'
}

export const check: Command = async (ctx) => {
  const { values, positionals } = parseCommandArgs('check', ctx.args, {
    only: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  })
  if (positionals.length) throw new UsageError(`check: unexpected argument "${positionals[0]}"`)
  const only = parseOnly(values.only)
  const config = ctx.loadConfig()
  const timeoutMs = parseMs('check', '--timeout', values.timeout) ?? config.checks.timeout_ms

  // A hard overall bound: whatever hangs (daemon, socket, DNS), keepalived gets an answer.
  let timer: NodeJS.Timeout | undefined
  const overall = new Promise<Verdict>((resolve) => {
    timer = setTimeout(
      () => resolve({ healthy: false, checks: [], checkedAt: new Date().toISOString(), source: 'local' }),
      timeoutMs + 200,
    )
  })
  let verdict: Verdict
  try {
    verdict = await Promise.race([
      verdictFromDaemonOrLocal(controlSocketPath(config.runtime_dir), only, timeoutMs, () =>
        runChecks(config, { ...(only ? { only } : {}), timeoutMs }),
      ),
      overall,
    ])
  } catch (err) {
    ctx.stderr.write(`check: ${(err as Error).message}\n`)
    return EXIT.FAILED
  } finally {
    clearTimeout(timer)
  }
  if (verdict.checks.length === 0 && !verdict.healthy) {
    ctx.stderr.write(`check: no verdict within ${timeoutMs + 200} ms\n`)
    return EXIT.FAILED
  }
  ctx.stdout.write(values.json ? JSON.stringify(verdict) + '\n' : formatVerdict(verdict))
  return verdict.healthy ? EXIT.OK : EXIT.FAILED
}
