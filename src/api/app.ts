import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from '../log/index.js'
import type { AgentMetrics } from './metrics.js'
import type { StatusSnapshot } from './status.js'

export interface AppOptions {
  snapshot(): StatusSnapshot
  metrics: AgentMetrics
  logger: Logger
  /** when set, /status and /metrics need `Authorization: Bearer <token>` (peers send it) */
  authorize?: (header: string | undefined) => boolean
}

/** The HTTP API, built apart from listen() so tests use inject(). */
export function buildApp(opts: AppOptions): FastifyInstance {
  // Request logs are info: the API logs warnings and errors only (peers poll it every second).
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/healthz' || !opts.authorize) return
    if (!opts.authorize(req.headers.authorization)) return reply.code(401).send({ error: 'missing or wrong bearer token' })
  })
  app.get('/status', async () => opts.snapshot())
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType)
    return opts.metrics.registry.metrics()
  })
  return app
}
