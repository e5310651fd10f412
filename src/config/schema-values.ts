// The shapes of single values in the config, as zod schemas with the limits
// `run` would otherwise fail on: HOST:PORT with a port in 1-65535, durations
// ("500ms", "30s", "7d") and timers a Node.js timer can hold, byte sizes, a
// command as argv. Shared by the document (schema.ts) and its webhooks
// (webhook-schema.ts).
import { z } from 'zod'
import { parseBytes, parseDuration } from './units.js'

/** The longest delay a Node.js timer holds (2^31-1 ms, ~24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9471')
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1))
    return port >= 1 && port <= 65535
  }, 'port must be 1-65535')

/** "500ms", "30s", "24h", "7d" or a number of ms: positive, finite, at most `max`. */
export const duration = (max: number, maxText: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(v)
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)} (use e.g. 500ms, 30s, 5m, 24h, 7d)` })
      return z.NEVER
    }
    if (ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be longer than 0 (got ${JSON.stringify(v)})` })
      return z.NEVER
    }
    if (ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${maxText} (got ${JSON.stringify(v)})` })
      return z.NEVER
    }
    return ms
  })

/** A timer's milliseconds: a positive integer a Node.js timer can hold. */
export const timerMs = z
  .number()
  .int()
  .positive()
  .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (about 24.8 days: the longest delay a timer holds)`)

/** How long the daemon holds a check's connection before it opens a new one: 0 (a new one every round) up to a timer's limit. */
export const reconnectMs = z
  .number()
  .int()
  .min(0)
  .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms`)
  .default(30_000)

export const bytes = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = parseBytes(v)
  if (n === undefined || n <= 0) {
    ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(v)} (use e.g. 268435456, 256MiB, 1GiB)` })
    return z.NEVER
  }
  return n
})

export const DAY = 86_400_000

/** A local command as argv (no shell): argv[0] an absolute path. */
export const command = z
  .array(z.string().refine((s) => !s.includes('\0'), 'must not contain a NUL byte'))
  .min(1, 'needs at least the program, e.g. ["/usr/local/bin/on-failover"]')
  .refine((argv) => argv.length === 0 || argv[0]!.startsWith('/'), {
    message: 'argv[0] must be an absolute path (no shell and no PATH lookup), e.g. ["/usr/local/bin/on-failover", "--quiet"]',
  })
