import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from '../log/index.js'
import { registerActions, type ApiActions } from './actions.js'
import type { AgentMetrics } from './metrics.js'
import type { StatusSnapshot } from './status.js'
import { registerStatusStream, type StatusFeed } from './stream.js'

export interface AppOptions {
  snapshot(): StatusSnapshot
  metrics: AgentMetrics
  logger: Logger
  /**
   * When set, every route but the public ones (/healthz, /health, /master,
   * /backup) needs an `Authorization: Bearer <token>` it accepts.
   */
  authorize?: (header: string | undefined) => boolean
  /** serve HTTPS with this certificate chain and key (PEM) */
  https?: { cert: string; key: string }
  /** POST /switchover and POST /yield (actions.ts): what the peer asks for planned operations */
  actions?: ApiActions
  /** GET /status/stream pushes the snapshot from this feed (peers listen to it instead of polling) */
  feed?: StatusFeed
}

/** Routes anyone may ask: each answers one bit (alive, healthy, holds a VRRP state). */
const PUBLIC = { public: true }

type RoleState = 'MASTER' | 'BACKUP'

/**
 * Whether this node holds `want` for `instance`, or for every instance it knows
 * (none known is no). The reason names the instances and their states: anyone
 * on the VRRP segment sees as much in the adverts.
 */
export function roleAnswer(s: StatusSnapshot, want: RoleState, instance: string | undefined): { ok: boolean; reason: string } {
  // A keepalived killed with SIGKILL says nothing: its last recorded state would stay MASTER.
  if (s.keepalived?.up === false) return { ok: false, reason: 'keepalived is not running' }
  const all = s.instances
  if (instance !== undefined) {
    const i = all.find((x) => x.name === instance)
    if (!i) return { ok: false, reason: `no VRRP instance ${instance} known here` }
    return { ok: i.state === want, reason: `${i.name} is ${i.state}` }
  }
  if (!all.length) return { ok: false, reason: 'no VRRP instance known here yet' }
  const other = all.filter((i) => i.state !== want)
  if (other.length) return { ok: false, reason: other.map((i) => `${i.name} is ${i.state}`).join(', ') }
  return { ok: true, reason: `${all.map((i) => i.name).join(', ')} ${all.length === 1 ? 'is' : 'are'} ${want}` }
}

/**
 * Healthy or not, and why, in words that give away no address or detail (the
 * route needs no token): the names of the failing checks, the track_file fault.
 */
export function healthAnswer(s: StatusSnapshot): { ok: boolean; reason: string } {
  if (s.healthy) return { ok: true, reason: 'every check passes' }
  const why: string[] = []
  // The operator's reason stays in /status (it is free text, and this route needs no token).
  if (s.maintenance?.on) why.push(`in maintenance${s.maintenance.since ? ` since ${s.maintenance.since}` : ''}`)
  else if (s.track_file?.fault) why.push('local fault (keepalived track_file)')
  const failing = s.checks.filter((c) => c.status === 'fail').map((c) => c.name)
  if (failing.length) why.push(`failing: ${failing.join(', ')}`)
  if (!s.checks.length) why.push('no check has run yet')
  return { ok: false, reason: why.join('; ') || 'not healthy' }
}

function queryInstance(req: FastifyRequest): string | undefined | null {
  const q = (req.query ?? {}) as Record<string, unknown>
  const v = q.instance
  if (v === undefined) return undefined
  return typeof v === 'string' && v !== '' ? v : null
}

/** The HTTP API, built apart from listen() so tests use inject(). */
export function buildApp(opts: AppOptions): FastifyInstance {
  // Request logs are info: the API logs warnings and errors only (peers poll it every second).
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger,
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
  }) as unknown as FastifyInstance
  app.addHook('onRequest', async (req, reply) => {
    // routeOptions.config is the route's own: a 404 is not public, so an unknown path tells nothing either.
    if (!opts.authorize || (req.routeOptions.config as { public?: boolean } | undefined)?.public) return
    if (!opts.authorize(req.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' })
    }
  })
  // GET routes answer HEAD too (fastify's exposeHeadRoutes), with the same status and no body.
  app.get('/healthz', { config: PUBLIC }, async () => ({ status: 'ok' }))
  app.get('/health', { config: PUBLIC }, async (_req, reply) => {
    const a = healthAnswer(opts.snapshot())
    return reply.code(a.ok ? 200 : 503).send({ healthy: a.ok, reason: a.reason })
  })
  const role = (want: RoleState) => async (req: FastifyRequest, reply: FastifyReply) => {
    const instance = queryInstance(req)
    if (instance === null) return reply.code(400).send({ error: 'instance= needs one VRRP instance name' })
    const a = roleAnswer(opts.snapshot(), want, instance)
    return reply.code(a.ok ? 200 : 503).send({ role: want, holds: a.ok, reason: a.reason })
  }
  app.get('/master', { config: PUBLIC }, role('MASTER'))
  app.get('/backup', { config: PUBLIC }, role('BACKUP'))
  app.get('/status', async () => opts.snapshot())
  if (opts.actions) registerActions(app, opts.actions)
  if (opts.feed) registerStatusStream(app, opts.feed)
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType)
    return opts.metrics.registry.metrics()
  })
  return app
}
