import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'
import { startWatchdog } from '../watchdog.js'

export function watchdogPart(ctx: DaemonContext): Part {
  return {
    name: 'watchdog',
    key: (c) => c.watchdog_ms,
    async start(config) {
      if (config.watchdog_ms === null) return { stop: async () => {} }
      const w = startWatchdog({ timeoutMs: config.watchdog_ms, logger: ctx.logger, journal: ctx.journal })
      return { stop: async () => w.stop() }
    },
  }
}
