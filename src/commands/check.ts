// `ha-agent check`: what keepalived's vrrp_script runs every second. It asks the
// daemon for its fresh verdict over the control socket, finding the socket with
// a line match on the config, so this path loads no YAML parser, no schema, no
// probe code. Without a daemon (or one running another config) it loads the
// config and probes itself. Either way it answers within --timeout + 200 ms.
import { readFileSync } from 'node:fs'
import type { Command } from '../cli/context.js'
import { parseCommandArgs, parseMs } from '../cli/args.js'
import { CHECK_NAMES, type CheckName, type Verdict } from '../checks/types.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { peekCheckTimeout, peekRuntimeDir } from '../config/peek.js'
import { EXIT, UsageError } from '../errors/index.js'

const DEFAULT_TIMEOUT_MS = 1000

function readConfigTimeout(configPath: string): number | undefined {
  try {
    return peekCheckTimeout(readFileSync(configPath, 'utf8'))
  } catch {
    return undefined
  }
}

function parseOnly(value: string | undefined): CheckName[] | undefined {
  if (!value) return undefined
  const names = value.split(',').map((s) => s.trim()).filter(Boolean)
  for (const n of names) {
    if (!(CHECK_NAMES as readonly string[]).includes(n)) throw new UsageError(`check: unknown check "${n}" (valid: ${CHECK_NAMES.join(', ')})`)
  }
  return names as CheckName[]
}

export function formatVerdict(v: Verdict): string {
  const lines = v.checks.map((c) => `${c.name.padEnd(9)} ${c.status} ${String(Math.round(c.latencyMs)).padStart(4)}ms  ${c.detail}`)
  lines.push(`${v.healthy ? 'healthy' : 'UNHEALTHY'} (${v.source})`)
  return lines.join('\n') + '\n'
}

export interface CheckCommandOptions {
  /** ms epoch the budget counts from; tests calling it in-process pass Date.now */
  startedAt?: () => number
}

// keepalived times the whole process, so in a fresh `ha-agent check` the clock
// starts at exec: Node's boot (~100-150 ms here) comes out of the budget. Only up
// to BOOT_ALLOWANCE_MS of it: a boot slowed by a loaded host (or a test runner's
// NODE_OPTIONS) should not leave the probes no time at all and report a healthy
// node as failed. A caller running for a while (tests calling main()) starts the
// clock at the call.
const BOOT_ALLOWANCE_MS = 250
const sinceExec = () => {
  const sinceBoot = performance.now()
  return Date.now() - (sinceBoot < 2000 ? Math.min(sinceBoot, BOOT_ALLOWANCE_MS) : 0)
}

export const createCheckCommand = (opts: CheckCommandOptions = {}): Command => async (ctx) => {
  const { values, positionals } = parseCommandArgs('check', ctx.args, {
    only: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  })
  if (positionals.length) throw new UsageError(`check: unexpected argument "${positionals[0]}"`)
  const only = parseOnly(values.only)
  const flagTimeout = parseMs('check', '--timeout', values.timeout)
  // --timeout, else checks.timeout_ms: the whole run answers within it + 200 ms.
  let budgetMs = flagTimeout ?? readConfigTimeout(ctx.configPath) ?? DEFAULT_TIMEOUT_MS
  const started = (opts.startedAt ?? sinceExec)()

  let timer: NodeJS.Timeout | undefined
  let giveUp: (v: undefined) => void = () => {}
  const overall = new Promise<undefined>((resolve) => (giveUp = resolve))
  const armDeadline = () => {
    clearTimeout(timer)
    timer = setTimeout(() => giveUp(undefined), Math.max(0, started + budgetMs + 200 - Date.now()))
  }
  armDeadline()

  const local = async (): Promise<Verdict> => {
    const config = await ctx.loadConfig()
    if (flagTimeout === undefined && config.checks.timeout_ms !== budgetMs) {
      // The line scan missed (flow style, anchors): the loaded config has the last word.
      budgetMs = config.checks.timeout_ms
      armDeadline()
    }
    const { runChecks } = await import('../checks/index.js')
    // Loading the config came out of the budget; the probes get the rest.
    const timeoutMs = Math.max(1, Math.floor(budgetMs - (Date.now() - started)))
    return runChecks(config, { ...(only ? { only } : {}), timeoutMs })
  }
  const viaDaemon = async (): Promise<Verdict> => {
    try {
      const res = await controlRequest(
        controlSocketPath(peekRuntimeDir(ctx.configPath)),
        { op: 'check', ...(only ? { only } : {}), ...(flagTimeout ? { timeoutMs: flagTimeout } : {}), configPath: ctx.configPath },
        budgetMs + 100,
      )
      if (res.ok && 'verdict' in res) return res.verdict
    } catch {
      // no daemon, a stale socket, a daemon of another config: probe ourselves
    }
    return local()
  }

  // A hard overall bound: whatever hangs (daemon, socket, DNS), keepalived gets an answer.
  let verdict: Verdict | undefined
  try {
    verdict = await Promise.race([viaDaemon(), overall])
  } finally {
    clearTimeout(timer)
  }
  if (!verdict) {
    ctx.stderr.write(`check: no verdict within ${budgetMs + 200} ms\n`)
    if (values.json) ctx.stdout.write(JSON.stringify({ healthy: false, checks: [], checkedAt: new Date().toISOString(), source: 'local', error: `no verdict within ${budgetMs + 200} ms` }) + '\n')
    return EXIT.FAILED
  }
  ctx.stdout.write(values.json ? JSON.stringify(verdict) + '\n' : formatVerdict(verdict))
  return verdict.healthy ? EXIT.OK : EXIT.FAILED
}

export const check: Command = createCheckCommand()
