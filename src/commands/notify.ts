// `ha-agent notify`: what keepalived runs on every transition. It records the
// event durably and returns; delivery is the daemon's job, so a dead network
// never blocks keepalived and a crash never loses the event.
import type { Command } from '../cli/context.js'
import { EXIT, StorageError } from '../errors/index.js'
import { forkOrderMicros, isStale, parseNotifyArgs, readInstance, stateAfter, writeInstance } from '../keepalived/index.js'
import { openOutbox } from '../outbox/index.js'

export const notify: Command = async (ctx) => {
  const transition = parseNotifyArgs(ctx.args)
  const config = await ctx.loadConfig()
  // When keepalived forked us, not when Node.js got around to running this line.
  const order = forkOrderMicros(process.pid, config.state_dir)
  const at = new Date(Math.floor(order / 1000))
  const recorded = readInstance(config.state_dir, transition.instance)
  // A notify forked earlier than the recorded transition (it lost the start-up
  // race) still reports its event, but must not overwrite the newer state.
  const stale = isStale(recorded, order)
  try {
    // The event first: if the disk fills up between the two writes, the state
    // file still names the last state that was reported.
    await openOutbox({ stateDir: config.state_dir, webhooks: config.webhooks }).append({
      type: 'vrrp.transition',
      timestamp: at.toISOString(),
      orderMicros: order,
      data: {
        node: config.node,
        instance: transition.instance,
        kind: transition.kind,
        state: transition.state,
        previous_state: stale ? null : (recorded?.state ?? null),
        priority: transition.priority,
        source: 'notify',
      },
    })
    if (!stale) writeInstance(config.state_dir, stateAfter(transition, at, order))
  } catch (err) {
    if (err instanceof StorageError) {
      ctx.stderr.write(`ha-agent notify: ${err.message}\n`)
      return EXIT.FAILED
    }
    throw err
  }
  return EXIT.OK
}
