// `ha-agent switchover [--to NODE] [--timeout S] [--force] [--json]`: moves the
// VIP to the peer on purpose (a kernel update, an HAProxy upgrade). The CLI asks
// its own daemon over the control socket; the daemon runs it when this node
// holds the VIP, else forwards it to the one that does (daemon/switchover.ts).
import type { Command } from '../cli/context.js'
import { parseCommandArgs, parseSeconds } from '../cli/args.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { EXIT, ExitError, hasCode, UsageError } from '../errors/index.js'

/** on top of --timeout: forwarding to the VIP holder and the answer's way back */
const SLACK_MS = 8000

export const switchover: Command = async (ctx) => {
  const { values, positionals } = parseCommandArgs('switchover', ctx.args, {
    to: { type: 'string' },
    timeout: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  })
  if (positionals.length) throw new UsageError(`switchover: unexpected argument "${positionals[0]}"`)
  const timeoutMs = parseSeconds('switchover', '--timeout', values.timeout, 120) ?? 10_000
  if (values.to === '') throw new UsageError('switchover: --to needs a NODE (its `node:` name)')
  const config = await ctx.loadConfig()
  const socket = controlSocketPath(config.runtime_dir)
  const started = Date.now()
  let res
  try {
    res = await controlRequest(socket, { op: 'switchover', ...(values.to ? { to: values.to } : {}), force: !!values.force, timeoutMs }, timeoutMs + SLACK_MS)
  } catch (err) {
    if (hasCode(err, 'HA_ERR_UNAVAILABLE')) throw new ExitError(EXIT.FAILED, `switchover: the daemon is not running (no control socket at ${socket}); it runs switchovers`)
    throw new ExitError(EXIT.FAILED, `switchover: ${(err as Error).message}`)
  }
  const wall = Date.now() - started
  if (values.json) ctx.stdout.write(JSON.stringify({ ...res, command_ms: wall }) + '\n')
  if (!res.ok || !('operation' in res) || res.operation !== 'switchover') {
    const error = 'error' in res ? res.error : 'unexpected answer from the daemon'
    const refused = 'refused' in res && res.refused
    if (!values.json) ctx.stderr.write(`switchover ${refused ? 'refused' : 'failed'}: ${error}\n`)
    return EXIT.FAILED
  }
  if (!values.json) ctx.stdout.write(`${res.message}\n${'noop' in res && res.noop ? '' : `(the command took ${(wall / 1000).toFixed(2)} s)\n`}`)
  return EXIT.OK
}
