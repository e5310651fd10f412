// `ha-agent notify`: what keepalived runs on every transition. It records the
// event durably and returns; delivery is the daemon's job, so a dead network
// never blocks keepalived and a crash never loses the event.
//
// With the daemon running, the daemon records it (it has the config loaded and
// replies only once the event is fsynced), so this process loads no YAML parser
// and no schema: half of its start-up. Without one, it records the event itself.
import type { Command } from '../cli/context.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { peekRuntimeDir } from '../config/peek.js'
import { EXIT, StorageError } from '../errors/index.js'
import { parseNotifyArgs } from '../keepalived/notify-args.js'

const DAEMON_TIMEOUT_MS = 2000

export const notify: Command = async (ctx) => {
  const transition = parseNotifyArgs(ctx.args)
  try {
    const res = await controlRequest(
      controlSocketPath(peekRuntimeDir(ctx.configPath)),
      { op: 'notify', transition, pid: process.pid, configPath: ctx.configPath },
      DAEMON_TIMEOUT_MS,
    )
    if (res.ok) return EXIT.OK
    // The daemon refused (another config, a full disk): record it here, where the error is reported.
  } catch {
    // no daemon, or it did not answer in time: record it here
  }
  const config = await ctx.loadConfig()
  const { forkOrderMicros, recordVrrpTransition } = await import('../keepalived/index.js')
  try {
    await recordVrrpTransition({
      stateDir: config.state_dir,
      node: config.node,
      webhooks: config.webhooks,
      transition,
      // When keepalived forked us, not when Node.js got around to running this line.
      order: forkOrderMicros(process.pid, config.state_dir),
      source: 'notify',
    })
  } catch (err) {
    if (err instanceof StorageError) {
      ctx.stderr.write(`ha-agent notify: ${err.message}\n`)
      return EXIT.FAILED
    }
    throw err
  }
  return EXIT.OK
}
