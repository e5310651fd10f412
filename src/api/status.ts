// GET /status (contract section 4): snake_case, as operators and peers read it.
// The schema is the type: `ha-agent status` parses what the daemon sends with it,
// and each node parses its peer's /status with the part it acts on (cluster/peers.ts).
// Objects are not strict: a newer daemon may say more.
import { z } from 'zod'

const instance = z.object({ name: z.string(), state: z.string(), priority: z.number().nullable(), since: z.string() })
/** `ha-agent maintenance`: out of MASTER until turned off (a daemon before it says nothing: off) */
const maintenance = z.object({ on: z.boolean(), since: z.string().nullable(), reason: z.string().nullable() })
export const MAINTENANCE_DEFAULT = { on: false, since: null, reason: null }

export const statusSnapshotSchema = z.object({
  node: z.string(),
  version: z.string(),
  healthy: z.boolean(),
  /** every part of the daemon started and the first track_file decision is written */
  ready: z.boolean(),
  instances: z.array(instance),
  checks: z.array(z.object({ name: z.string(), status: z.enum(['pass', 'fail']), latency_ms: z.number(), detail: z.string(), checked_at: z.string() })),
  outbox: z.object({
    pending: z.number(),
    dead: z.number(),
    /** events kept under runtime_dir because state_dir could not take them (full disk) */
    spooled: z.number(),
    /** queues of webhooks no longer in the config: nobody delivers them */
    orphaned: z.array(z.object({ queue: z.string(), pending: z.number() })),
    /** why the outbox refuses new events (outbox.max_bytes reached), or null */
    full: z.string().nullable(),
  }),
  /** keepalived's VRRP process: up when its pid file names a live process; null when not known */
  keepalived: z.object({ up: z.boolean().nullable(), pid_file: z.string().nullable(), detail: z.string() }),
  /** `ha-agent notify` claims refused since the daemon started (optional: older daemons do not say) */
  notify_refused: z.object({ count: z.number(), last_error: z.string().nullable(), last_at: z.string().nullable() }).optional(),
  peers: z.array(
    z.object({
      url: z.string(),
      reachable: z.boolean(),
      node: z.string().optional(),
      healthy: z.boolean().optional(),
      instances: z.array(instance).optional(),
      error: z.string().optional(),
      last_seen: z.string().optional(),
      maintenance: maintenance.optional(),
      yielding: z.boolean().optional(),
    }),
  ),
  track_file: z.object({ path: z.string(), fault: z.boolean(), reason: z.string() }).nullable(),
  haproxy_watch: z.object({ up: z.boolean(), detail: z.string(), since: z.string() }).nullable(),
  split_brain: z.array(z.object({ instance: z.string(), peers: z.array(z.string()), since: z.string() })),
  webhooks: z.array(
    z.object({
      name: z.string(),
      pending: z.number(),
      dead: z.number(),
      last_result: z.string().optional(),
      last_error: z.string().optional(),
      next_attempt_at: z.string().optional(),
    }),
  ),
  recent_transitions: z.array(z.object({ instance: z.string(), state: z.string(), at: z.string(), source: z.string() })),
  /** the last SIGHUP reload: null before the first one */
  reload: z.object({ ok: z.boolean(), at: z.string(), error: z.string().nullable() }).nullable(),
  started_at: z.string(),
  maintenance: maintenance.default(MAINTENANCE_DEFAULT),
  /** the yield of the last switchover away from this node: its priority is lowered (keepalived.yield_file) */
  yielding: z.boolean().default(false),
  /** a switchover handing the VIP over from this node, while it runs */
  switchover: z.object({ to: z.string(), since: z.string() }).nullable().default(null),
})

export type StatusSnapshot = z.infer<typeof statusSnapshotSchema>
