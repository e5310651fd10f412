// `ha-agent check`: what keepalived's vrrp_script runs every second. It asks the
// daemon for its current verdict over the control socket (finding the socket
// with a line match on the config, so this path loads no YAML parser, no schema,
// no probe code) and gives it a few hundred ms: the daemon answers from memory
// in a few ms, or not at all (stopped, crashed, frozen). Then it probes by
// itself with what is left of the budget, and, when no daemon keeps the
// track_file, keeps it truthful itself (HAProxy gone: 1, else 0), so that a dead
// daemon neither pins FAULT nor silently turns fast failover off. Either way it
// answers within --timeout + 200 ms. (Installed, keepalived runs the sh launcher
// first, src/launcher/ha-agent.sh: it answers from the daemon's verdict file
// without starting Node.js while that is fresh, and runs this otherwise.)
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from '../cli/context.js'
import { parseCommandArgs, parseMs } from '../cli/args.js'
import { CHECK_NAMES, type CheckName, type Verdict } from '../checks/types.js'
import { formatVerdict } from '../checks/format.js'
import { isEvidence, lastAnswer, recordAnswer } from '../launcher/last-answer.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { DEFAULT_CHECK_TIMEOUT_MS, peekCheckTimeout, peekRuntimeDir } from '../config/peek.js'
import { EXIT, hasCode, UsageError } from '../errors/index.js'

/** the daemon's share of the budget: it answers from memory, in a few ms, or is not worth waiting for */
const DAEMON_SHARE_MS = 250

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

export { formatVerdict }

export interface CheckCommandOptions {
  /** ms epoch the budget counts from; tests calling it in-process pass Date.now */
  startedAt?: () => number
}

// keepalived times the whole process, from its fork, and counts a script past
// its `timeout` as failed: in a fresh `ha-agent check` the clock starts at exec,
// and Node's start comes out of the budget. When a loaded host makes that start
// slow, the probes may get too little time to find anything out: that is no
// evidence, and the answer is then the last one that had some
// (src/launcher/last-answer.ts), never a failure made up by the deadline. A
// caller running for a while (tests calling main()) starts the clock at the call.
const sinceExec = () => (performance.now() < 2000 ? performance.timeOrigin : Date.now())

type DaemonAnswer = { verdict: Verdict } | { absent: true } | { busy: string }

export const createCheckCommand = (opts: CheckCommandOptions = {}): Command => async (ctx) => {
  const { values, positionals } = parseCommandArgs('check', ctx.args, {
    only: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  })
  if (positionals.length) throw new UsageError(`check: unexpected argument "${positionals[0]}"`)
  const only = parseOnly(values.only)
  const flagTimeout = parseMs('check', '--timeout', values.timeout)
  const configPath = resolve(ctx.configPath)
  // --timeout, else checks.timeout_ms: the whole run answers within it + 200 ms.
  let budgetMs = flagTimeout ?? readConfigTimeout(configPath) ?? DEFAULT_CHECK_TIMEOUT_MS
  const started = (opts.startedAt ?? sinceExec)()
  const left = () => Math.max(1, Math.floor(started + budgetMs - Date.now()))

  let timer: NodeJS.Timeout | undefined
  let giveUp: (v: undefined) => void = () => {}
  const overall = new Promise<undefined>((resolve) => (giveUp = resolve))
  const armDeadline = () => {
    clearTimeout(timer)
    timer = setTimeout(() => giveUp(undefined), Math.max(0, started + budgetMs + 200 - Date.now()))
  }
  armDeadline()

  const askDaemon = async (): Promise<DaemonAnswer> => {
    const runtimeDir = peekRuntimeDir(configPath)
    try {
      const res = await controlRequest(
        controlSocketPath(runtimeDir),
        { op: 'check', ...(only ? { only } : {}), configPath },
        Math.min(DAEMON_SHARE_MS, Math.max(50, Math.floor(budgetMs / 4))),
      )
      if (res.ok && 'verdict' in res) return { verdict: res.verdict }
      // Alive, but its word is old or not for this config: it keeps the track_file itself.
      return { busy: 'error' in res ? res.error : 'unexpected answer' }
    } catch (err) {
      // No daemon (no socket, refused) or a frozen one (no answer): nobody keeps the track_file.
      if (hasCode(err, 'HA_ERR_UNAVAILABLE') || hasCode(err, 'HA_ERR_TIMEOUT')) return { absent: true }
      return { busy: (err as Error).message }
    }
  }

  let daemonWaitMs = 0
  const probe = async (keepTrackFile: boolean): Promise<Verdict | undefined> => {
    const config = await ctx.loadConfig({ purpose: 'check' })
    if (flagTimeout === undefined && config.checks.timeout_ms !== budgetMs) {
      // The line scan missed (flow style, anchors): the loaded config has the last word.
      budgetMs = config.checks.timeout_ms
      armDeadline()
    }
    const { runChecks } = await import('../checks/index.js')
    // The daemon's share and loading the config came out of the budget; the probes get the rest.
    const givenMs = left()
    const startMs = Date.now() - started - daemonWaitMs
    const verdict = await runChecks(config, { ...(only ? { only } : {}), timeoutMs: givenMs })
    if (!isEvidence(verdict, { givenMs, startMs })) {
      ctx.stderr.write(`check: inconclusive: the probes had ${givenMs} ms, ${startMs} ms went on starting this process (a busy host)\n`)
      return undefined
    }
    recordAnswer(config.runtime_dir, configPath, verdict)
    if (keepTrackFile && config.keepalived?.track_file) {
      const { keepTrackFileWithoutDaemon } = await import('../checks/track-fallback.js')
      keepTrackFileWithoutDaemon(config.keepalived.track_file, verdict, ctx.stderr, { stateDir: config.state_dir, yieldFile: config.keepalived.yield_file })
    }
    return verdict
  }

  const decide = async (): Promise<Verdict | undefined> => {
    const asked = Date.now()
    const answer = await askDaemon()
    if ('verdict' in answer) return answer.verdict
    daemonWaitMs = Date.now() - asked
    return probe('absent' in answer)
  }

  // A hard overall bound: whatever hangs (daemon, socket, DNS), keepalived gets an answer.
  let verdict: Verdict | undefined
  try {
    verdict = await Promise.race([decide(), overall])
  } finally {
    clearTimeout(timer)
  }
  if (!verdict) {
    // No evidence either way: what keepalived is told stays what it was told last.
    const last = lastAnswer(peekRuntimeDir(configPath), configPath, only)
    const said = last.from === 'none' ? 'no earlier answer: healthy, the VIP stays where it is' : `the ${last.from}'s last answer, ${Math.round(last.ageMs / 1000)} s old`
    ctx.stderr.write(`check: no evidence within ${budgetMs + 200} ms; answering with ${said}\n`)
    ctx.stdout.write(values.json ? JSON.stringify({ ...last.verdict, inconclusive: said }) + '\n' : formatVerdict(last.verdict))
    return last.exitCode === 0 ? EXIT.OK : EXIT.FAILED
  }
  ctx.stdout.write(values.json ? JSON.stringify(verdict) + '\n' : formatVerdict(verdict))
  return verdict.healthy ? EXIT.OK : EXIT.FAILED
}

export const check: Command = createCheckCommand()
