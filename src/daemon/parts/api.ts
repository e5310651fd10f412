import { buildApp } from '../../api/index.js'
import { checkBearer } from '../../cluster/index.js'
import { describeSystemError } from '../../errors/index.js'
import { splitHostPort } from '../../config/index.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'

/** The HTTP API (fastify). The token is read per request, so a reload that changes only it keeps the listener. */
export function apiPart(ctx: DaemonContext): Part {
  return {
    name: 'api',
    key: (c) => c.api.listen,
    async start(config) {
      const listen = config.api.listen
      if (!listen) return { stop: async () => {} }
      const app = buildApp({
        snapshot: () => ctx.snapshot(),
        metrics: ctx.metrics,
        logger: ctx.logger,
        authorize: (header) => {
          const token = ctx.config().cluster.token
          return !token || checkBearer(header, token)
        },
      })
      const { host, port } = splitHostPort(listen)
      try {
        await app.listen({ host, port })
      } catch (err) {
        await app.close().catch(() => {})
        throw new Error(`api.listen ${listen}: ${describeSystemError(err)}`)
      }
      return { stop: () => app.close() }
    },
  }
}
