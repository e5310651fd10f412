// `ha-agent notify`: what keepalived runs on every transition. It records the
// event durably and returns; delivery is the daemon's job, so a dead network
// never blocks keepalived and a crash never loses the event.
import type { Command } from '../cli/context.js'
import { EXIT, StorageError } from '../errors/index.js'
import { forkOrderMicros, parseNotifyArgs, recordTransition } from '../keepalived/index.js'
import { openOutbox } from '../outbox/index.js'

export const notify: Command = async (ctx) => {
  const transition = parseNotifyArgs(ctx.args)
  const config = ctx.loadConfig()
  // When keepalived forked us, not when Node.js got around to running this line.
  const order = forkOrderMicros()
  const at = new Date(Math.floor(order / 1000))
  try {
    const previous = recordTransition(config.state_dir, transition, at, order)
    await openOutbox({ stateDir: config.state_dir, webhooks: config.webhooks }).append({
      type: 'vrrp.transition',
      timestamp: at.toISOString(),
      orderMicros: order,
      data: {
        node: config.node,
        instance: transition.instance,
        kind: transition.kind,
        state: transition.state,
        previous_state: previous,
        priority: transition.priority,
        source: 'notify',
      },
    })
  } catch (err) {
    if (err instanceof StorageError) {
      ctx.stderr.write(`notify: ${err.message}\n`)
      return EXIT.FAILED
    }
    throw err
  }
  return EXIT.OK
}
