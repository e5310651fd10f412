import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'

/** agent.heartbeat on the configured cron schedule. */
export function heartbeatPart(ctx: DaemonContext): Part {
  return {
    name: 'heartbeat',
    key: (c) => c.heartbeat,
    async start(config) {
      if (!config.heartbeat) return { stop: async () => {} }
      const cron = await import('node-cron')
      if (!cron.validate(config.heartbeat)) throw new Error(`heartbeat: invalid cron expression ${JSON.stringify(config.heartbeat)}`)
      const task = cron.schedule(config.heartbeat, () => {
        const c = ctx.config()
        void ctx.emit({ type: 'agent.heartbeat', data: { node: c.node, state: ctx.state.fault.fault ? 'fault' : 'ok' } })
      })
      return {
        async stop() {
          await task.stop()
        },
      }
    },
  }
}
