// The routes one node of the pair calls on the other to move the VIP on
// purpose: POST /switchover (a node forwards `ha-agent switchover` to the VIP
// holder, which runs it) and POST /yield (the VIP holder tells the target of its
// switchover to drop its own yield once it is MASTER). Only the cluster's token
// (cluster.token_file) opens them: api.token_file is for readers (Prometheus),
// and without a cluster token nobody can.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'

export interface ActionAnswer {
  /** HTTP status: 200 done, 409 refused or failed (the body says why) */
  code: number
  body: Record<string, unknown>
}

export interface ApiActions {
  /** true when the header carries the cluster token (none configured: always false) */
  authorize(header: string | undefined): boolean
  switchover(req: { to?: string; force: boolean; timeoutMs: number }): Promise<ActionAnswer>
  clearYield(): Promise<ActionAnswer>
}

/** the longest a forwarded switchover may be given (its own --timeout is at most this) */
export const MAX_SWITCHOVER_TIMEOUT_MS = 120_000

const switchoverBody = z.strictObject({
  to: z.string().min(1).max(253).optional(),
  force: z.boolean().default(false),
  timeout_ms: z.number().int().min(100).max(MAX_SWITCHOVER_TIMEOUT_MS).default(10_000),
})
const yieldBody = z.strictObject({ yield: z.literal(false) })

function problem(err: z.ZodError): string {
  const issue = err.issues[0]!
  return `${issue.path.join('.') || 'body'}: ${issue.message}`
}

export function registerActions(app: FastifyInstance, actions: ApiActions): void {
  // Past the app's own bearer check (either token): the cluster's token alone.
  const guard = { preHandler: async (req: { headers: { authorization?: string } }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    if (!actions.authorize(req.headers.authorization)) return reply.code(403).send({ error: 'only the pair (cluster.token_file) may ask this' })
  } }
  app.post('/switchover', guard, async (req, reply) => {
    const parsed = switchoverBody.safeParse(req.body ?? {})
    if (!parsed.success) return reply.code(400).send({ error: problem(parsed.error) })
    const b = parsed.data
    const a = await actions.switchover({ ...(b.to ? { to: b.to } : {}), force: b.force, timeoutMs: b.timeout_ms })
    return reply.code(a.code).send(a.body)
  })
  app.post('/yield', guard, async (req, reply) => {
    const parsed = yieldBody.safeParse(req.body ?? {})
    if (!parsed.success) return reply.code(400).send({ error: problem(parsed.error) })
    const a = await actions.clearYield()
    return reply.code(a.code).send(a.body)
  })
}
