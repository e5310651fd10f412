import type { Server as HttpsServer } from 'node:https'
import { buildApp } from '../../api/index.js'
import { checkBearer } from '../../cluster/index.js'
import { describeSystemError } from '../../errors/index.js'
import { isLoopbackHost, splitHostPort, type AgentConfig } from '../../config/index.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'
import { apiActions, type Operations } from '../operations.js'

/** The tokens the API accepts: the cluster's (peers) and the API's own (Prometheus, people). */
function acceptedTokens(config: AgentConfig): string[] {
  return [config.cluster.token, config.api.token].filter((t): t is string => !!t)
}

/**
 * The HTTP API (fastify). The tokens and the TLS certificate are read per
 * request / swapped in place, so a reload that changes only them keeps the
 * listener; switching between http and https restarts it.
 */
export function apiPart(ctx: DaemonContext): Part {
  return {
    name: 'api',
    key: (c) => [c.api.listen, !!c.api.tls],
    async start(config) {
      const listen = config.api.listen
      if (!listen) return { stop: async () => {} }
      const tls = config.api.tls
      const app = buildApp({
        snapshot: () => ctx.snapshot(),
        metrics: ctx.metrics,
        logger: ctx.logger,
        // No token configured means none asked: config load allowed it (loopback, or api.allow_unauthenticated).
        authorize: (header) => {
          const tokens = acceptedTokens(ctx.config())
          return !tokens.length || tokens.some((t) => checkBearer(header, t))
        },
        ...(tls?.cert && tls.key ? { https: { cert: tls.cert, key: tls.key } } : {}),
        actions: apiActions(ctx, () => ctx.service<Operations>('operations')),
        feed: ctx.feed,
      })
      const { host, port } = splitHostPort(listen)
      try {
        await app.listen({ host, port })
      } catch (err) {
        await app.close().catch(() => {})
        throw new Error(`api.listen ${listen}: ${describeSystemError(err)}`)
      }
      if (!acceptedTokens(config).length && !isLoopbackHost(host)) {
        ctx.logger.warn({ api: listen }, 'api.allow_unauthenticated: anyone who reaches this address reads /status and /metrics')
      }
      return {
        stop: () => app.close(),
        update(next) {
          const t = next.api.tls
          if (t?.cert && t.key) (app.server as unknown as HttpsServer).setSecureContext({ cert: t.cert, key: t.key })
        },
      }
    },
  }
}
