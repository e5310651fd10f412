// `ha-agent notify`: what keepalived runs on every transition. It records the
// event durably and returns; delivery is the daemon's job, so a dead network
// never blocks keepalived and a crash never loses the event.
//
// The id is chosen here, once, from this process's fork order (keepalived forks
// one notify per transition, and the kernel knows which came first). With the
// daemon running, the daemon records it under that id (it has the config loaded
// and replies once the event is fsynced), so this process loads no YAML parser
// and no schema: half of its start-up. Without one, or when it does not answer
// in time, this process records the same id itself; the outbox counts an id
// once, so a slow daemon that records it after all does not make a second copy.
import type { Command } from '../cli/context.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { peekRuntimeDir } from '../config/peek.js'
import { ConfigError, EXIT, StorageError } from '../errors/index.js'
import { parseNotifyArgs } from '../keepalived/notify-args.js'
import { forkOrderMicros } from '../keepalived/fork-order.js'
import { eventIdMicros, newEventId } from '../outbox/ids.js'
import { resolve } from 'node:path'

/** The daemon answers in a few ms (one fsync); past this it is wedged and we record it ourselves. */
const DAEMON_TIMEOUT_MS = 1000

export const notify: Command = async (ctx) => {
  const transition = parseNotifyArgs(ctx.args)
  const configPath = resolve(ctx.configPath)
  const runtimeDir = peekRuntimeDir(configPath)
  // When keepalived forked us, not when Node.js got around to running this line.
  const id = newEventId(forkOrderMicros(process.pid, runtimeDir))
  try {
    const res = await controlRequest(controlSocketPath(runtimeDir), { op: 'notify', id, pid: process.pid, transition, configPath }, DAEMON_TIMEOUT_MS)
    if (res.ok && 'recorded' in res) {
      if (res.stored === 'outbox') return EXIT.OK
      ctx.stderr.write(`ha-agent notify: ${res.problem ?? 'not recorded under state_dir'}\n`)
      return EXIT.FAILED
    }
    // The daemon refused (another config, it cannot see this process): record it here.
  } catch {
    // no daemon, or it did not answer in time: record it here
  }
  const { recordVrrpTransition } = await import('../keepalived/record.js')
  let config
  try {
    config = await ctx.loadRecordingConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    // Not even where the outbox is can be read: keep the event in the spool,
    // which the daemon drains once it runs with a config it can read.
    const { spoolEvent } = await import('../outbox/outbox.js')
    const { hostname } = await import('node:os')
    const data = { node: hostname(), instance: transition.instance, kind: transition.kind, state: transition.state, previous_state: null, priority: transition.priority, source: 'notify' }
    try {
      const spooled = spoolEvent(runtimeDir, { id, type: 'vrrp.transition', timestamp: new Date(Math.floor(eventIdMicros(id) / 1000)).toISOString(), data })
      ctx.stderr.write(`ha-agent notify: cannot read ${configPath}; the transition is kept in ${spooled.path} until the daemon runs with a valid config\n`)
    } catch (spoolErr) {
      ctx.stderr.write(`ha-agent notify: cannot read ${configPath}, and ${(spoolErr as Error).message}: the transition is NOT recorded\n`)
    }
    throw err
  }
  try {
    const r = await recordVrrpTransition(config, transition, id, 'notify')
    if (r.stored === 'spool') {
      ctx.stderr.write(`ha-agent notify: ${r.problem}\n`)
      return EXIT.FAILED
    }
    // The event is safe; only /status's view of the instance is behind.
    if (r.problem) ctx.stderr.write(`ha-agent notify: recorded, but ${r.problem}\n`)
    return EXIT.OK
  } catch (err) {
    if (err instanceof StorageError) {
      ctx.stderr.write(`ha-agent notify: the transition is NOT recorded: ${err.message}\n`)
      return EXIT.FAILED
    }
    throw err
  }
}
