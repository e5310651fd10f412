// An event file read back from a queue or the spool is data from disk: anything
// can be in it (a torn copy from an old version, an operator's edit, a bit flip).
// It is parsed once, here; a record that does not parse is dead-lettered with its
// original bytes, never retried (it would fail the same way forever).
import { z } from 'zod'
import { EVENT_TYPES, type AgentEvent } from '../events/index.js'

const eventSchema = z.object({
  id: z.string().regex(/^msg_[0-9a-f]{24}$/, 'not an event id'),
  type: z.enum(EVENT_TYPES),
  timestamp: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'not a timestamp'),
  data: z.record(z.string(), z.unknown()),
  only: z.array(z.string()).optional(),
})

export type ParsedRecord = { ok: true; event: AgentEvent } | { ok: false; reason: string }

/** The event in `text`, or why it is not one. `expectedId` is the file's name. */
export function parseEventRecord(text: string, expectedId?: string): ParsedRecord {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` }
  }
  const r = eventSchema.safeParse(json)
  if (!r.success) {
    const issue = r.error.issues[0]!
    return { ok: false, reason: `not an event: ${issue.path.join('.') || 'record'}: ${issue.message}` }
  }
  if (expectedId !== undefined && r.data.id !== expectedId) return { ok: false, reason: `file name says ${expectedId}, the record says ${r.data.id}` }
  return { ok: true, event: r.data as AgentEvent }
}
