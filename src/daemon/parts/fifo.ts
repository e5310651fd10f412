import { openNotifyFifo, recordVrrpTransition } from '../../keepalived/index.js'
import { newEventId } from '../../outbox/index.js'
import type { Dispatcher } from '../../webhooks/index.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'
import { noteTransition } from './keepalived.js'
import { plannedNow } from '../planned.js'

/** keepalived's notify_fifo: transitions in keepalived's own order, no process per transition. */
export function fifoPart(ctx: DaemonContext): Part {
  return {
    name: 'notify FIFO',
    key: (c) => c.keepalived?.notify_fifo ?? null,
    async start(config) {
      const path = config.keepalived?.notify_fifo
      if (!path) return { stop: async () => {} }
      // Lines arrive in keepalived's order; their ids follow arrival, which is that order.
      let queue = Promise.resolve()
      const fifo = openNotifyFifo({
        path,
        logger: ctx.logger,
        onTransition: (t) => {
          const id = newEventId()
          queue = queue.then(async () => {
            const c = ctx.config()
            try {
              const planned = plannedNow(ctx.state)
              const r = await recordVrrpTransition(c, t, id, 'fifo', planned ? { planned } : {})
              if (r.problem) ctx.logger.error({ id, problem: r.problem }, 'VRRP transition from the notify FIFO recorded with a problem')
              ctx.service<Dispatcher>('dispatcher')?.kick()
            } catch (err) {
              ctx.logger.error({ err, instance: t.instance, state: t.state }, 'cannot record VRRP transition from the notify FIFO')
            }
            noteTransition(ctx, t.instance, t.state, new Date().toISOString(), 'fifo')
          })
        },
      })
      return {
        async stop() {
          await fifo.stop()
          await queue
        },
      }
    },
  }
}
