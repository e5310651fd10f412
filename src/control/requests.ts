// What the daemon accepts on its control socket. Anyone who can connect is
// trusted with nothing: a request is data from another process, parsed here,
// and anything keepalived (through `ha-agent notify`) or the CLI could never
// have sent is refused with a reason.
import { z } from 'zod'
import { CHECK_NAMES } from '../checks/types.js'
import { VRRP_STATES } from '../events/index.js'
import type { ControlRequest } from './protocol.js'

const absolutePath = z.string().min(1).max(4096).startsWith('/', 'must be an absolute path')
const instanceName = z
  .string()
  .min(1)
  .max(1024)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'control characters are not part of a keepalived name')

const request = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('ping') }),
  z.strictObject({ op: z.literal('status') }),
  z.strictObject({
    op: z.literal('check'),
    only: z.array(z.enum(CHECK_NAMES)).min(1).optional(),
    configPath: absolutePath,
  }),
  z.strictObject({
    op: z.literal('notify'),
    id: z.string().regex(/^msg_[0-9a-f]{24}$/, 'not an event id'),
    pid: z.number().int().min(2).max(2 ** 22),
    configPath: absolutePath,
    transition: z.strictObject({
      kind: z.enum(['INSTANCE', 'GROUP']),
      instance: instanceName,
      state: z.enum(VRRP_STATES),
      priority: z.number().int().min(0).max(255).nullable(),
    }),
  }),
  z.strictObject({ op: z.literal('webhook-test'), name: z.string().min(1).max(100).optional(), timeoutMs: z.number().int().min(1).max(120_000) }),
  z.strictObject({ op: z.literal('switchover'), to: z.string().min(1).max(253).optional(), force: z.boolean(), timeoutMs: z.number().int().min(100).max(120_000) }),
  z.strictObject({
    op: z.literal('maintenance'),
    action: z.enum(['on', 'off', 'status']),
    reason: z.string().max(500).refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'control characters are not part of a reason').optional(),
    force: z.boolean(),
    timeoutMs: z.number().int().min(100).max(120_000),
  }),
])

export type ParsedRequest = { ok: true; request: ControlRequest } | { ok: false; error: string }

/** Parses one request line's JSON value. */
export function parseControlRequest(value: unknown): ParsedRequest {
  const r = request.safeParse(value)
  if (r.success) return { ok: true, request: r.data as ControlRequest }
  const issue = r.error.issues[0]!
  const where = issue.path.length ? issue.path.join('.') : 'request'
  return { ok: false, error: `invalid request: ${where}: ${issue.message}` }
}
