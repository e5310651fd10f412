// `ha-agent maintenance on [--reason TEXT] [--force] | off | status [--json]`:
// this node out of MASTER until turned off, across restarts, upgrades and
// reboots (daemon/maintenance.ts). `on` and `off` need the daemon; `status`
// reads state_dir itself when no daemon answers.
import type { Command } from '../cli/context.js'
import { parseCommandArgs, parseSeconds } from '../cli/args.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { EXIT, ExitError, hasCode, UsageError } from '../errors/index.js'

const ACTIONS = ['on', 'off', 'status'] as const
type Action = (typeof ACTIONS)[number]
const SLACK_MS = 15_000

export const maintenance: Command = async (ctx) => {
  const { values, positionals } = parseCommandArgs('maintenance', ctx.args, {
    reason: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  })
  const action = positionals[0] as Action | undefined
  if (!action || !ACTIONS.includes(action)) throw new UsageError(`maintenance: say on, off or status${action ? ` (not "${action}")` : ''}`)
  if (positionals.length > 1) throw new UsageError(`maintenance: unexpected argument "${positionals[1]}"`)
  if (values.reason !== undefined && action !== 'on') throw new UsageError('maintenance: --reason goes with on')
  if (values.force && action !== 'on') throw new UsageError('maintenance: --force goes with on')
  const timeoutMs = parseSeconds('maintenance', '--timeout', values.timeout, 120) ?? 10_000
  const config = await ctx.loadConfig()
  const socket = controlSocketPath(config.runtime_dir)
  let res
  try {
    res = await controlRequest(socket, { op: 'maintenance', action, ...(values.reason !== undefined ? { reason: values.reason } : {}), force: !!values.force, timeoutMs }, timeoutMs + SLACK_MS)
  } catch (err) {
    if (!hasCode(err, 'HA_ERR_UNAVAILABLE')) throw new ExitError(EXIT.FAILED, `maintenance: ${(err as Error).message}`)
    if (action !== 'status') throw new ExitError(EXIT.FAILED, `maintenance ${action}: the daemon is not running (no control socket at ${socket}); start it first (\`ha-agent check\` keeps what is stored meanwhile)`)
    // No daemon: what is stored is what holds (`ha-agent check` keeps the track files by it).
    const { readMaintenance, readYield } = await import('../keepalived/index.js')
    const m = readMaintenance(config.state_dir)
    const shown = { on: m.on, since: m.since, reason: m.reason }
    const yielding = readYield(config.state_dir).yielding
    const message = `${config.node} is ${m.on ? `in maintenance since ${m.since ?? '?'}${m.reason ? `: ${m.reason}` : ''}` : 'not in maintenance'} (stored in ${config.state_dir}; the daemon is not running)`
    ctx.stdout.write(values.json ? JSON.stringify({ ok: true, operation: 'maintenance', maintenance: shown, yielding, message, daemon: false }) + '\n' : `${message}\n`)
    return EXIT.OK
  }
  if (values.json) ctx.stdout.write(JSON.stringify(res) + '\n')
  if (!res.ok || !('operation' in res) || res.operation !== 'maintenance') {
    const error = 'error' in res ? res.error : 'unexpected answer from the daemon'
    if (!values.json) ctx.stderr.write(`maintenance ${action} ${'refused' in res && res.refused ? 'refused' : 'failed'}: ${error}\n`)
    return EXIT.FAILED
  }
  if (!values.json) ctx.stdout.write(`${res.message}${action === 'status' && res.yielding ? '\nyielding since a switchover: priority lowered until this node is the target of one' : ''}\n`)
  return EXIT.OK
}
