import { notifyHoldMs } from '../../keepalived/index.js'
import { startDispatcher } from '../../webhooks/index.js'
import { alertConditions } from '../alert-conditions.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'

/** Delivery of every webhook's queue; a reload replaces only the lanes of changed webhooks. */
export function dispatcherPart(ctx: DaemonContext): Part {
  return {
    name: 'dispatcher',
    key: (c) => c.state_dir,
    async start(config) {
      const dispatcher = startDispatcher({
        stateDir: config.state_dir,
        webhooks: config.webhooks,
        logger: ctx.logger.child({ component: 'webhooks' }),
        onResult: (webhook, result) => ctx.metrics.deliveries.inc({ webhook, result }),
        alertConditions: () => alertConditions(ctx),
        // keepalived's order, not the order Node.js happened to start the notifies in
        holdBack: (event) => notifyHoldMs(ctx.notifies, event, Date.now()),
      })
      return {
        service: dispatcher,
        update: (next) => dispatcher.reload(next.webhooks),
        stop: () => dispatcher.stop(),
      }
    },
  }
}
