import type { HaproxyAsk } from '../../checks/index.js'
import { createHaproxyWatch } from '../../haproxy/index.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'

/** What the check loop borrows of the watch: its held runtime-API connection. */
export interface HaproxyAsker {
  ask: HaproxyAsk
}

/** The fast HAProxy watch feeding the track_file (see haproxy/watch.ts). */
export function haproxyWatchPart(ctx: DaemonContext): Part {
  return {
    name: 'HAProxy watch',
    key: (c) => (c.checks.haproxy ? [c.checks.haproxy.socket, c.checks.haproxy.watch_interval_ms, c.checks.timeout_ms] : null),
    async start(config) {
      const h = config.checks.haproxy
      ctx.state.haproxy = undefined
      if (!h) {
        ctx.decide()
        return { stop: async () => {} }
      }
      const watch = createHaproxyWatch({
        socket: h.socket,
        intervalMs: h.watch_interval_ms,
        timeoutMs: Math.max(config.checks.timeout_ms, h.watch_interval_ms * 3),
        onChange: (up, detail) => {
          ctx.state.haproxy = { up, detail, since: Date.now() }
          ctx.logger[up ? 'info' : 'warn']({ socket: h.socket, detail }, up ? 'HAProxy runtime API answers' : 'HAProxy gone')
          ctx.decide()
        },
      })
      const service: HaproxyAsker = { ask: (command, timeoutMs) => watch.ask(command, timeoutMs) }
      return { service, stop: async () => watch.stop() }
    },
  }
}
