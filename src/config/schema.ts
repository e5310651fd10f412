import { z } from 'zod'
import { parseDuration } from './duration.js'

// The outside contract's section 2. Every object is strict: an unknown key is
// an error that names its path, because a typo must not silently disable a check.

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9471')

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)} (use e.g. 500ms, 30s, 5m, 24h, 7d)` })
    return z.NEVER
  }
  return ms
})

const positiveMs = z.number().int().positive()

const haproxyCheck = z.strictObject({
  socket: z.string().min(1).default('/run/haproxy/admin.sock'),
  backends: z
    .array(z.strictObject({ name: z.string().min(1), min_up: z.number().int().min(0).default(1) }))
    .default([]),
  /** frontends that must be OPEN; empty means every frontend HAProxy reports */
  frontends: z.array(z.string().min(1)).optional(),
  /** how often the daemon's fast watch probes the runtime API (track_file latency) */
  watch_interval_ms: positiveMs.default(100),
})

const pgbouncerCheck = z.strictObject({
  targets: z.array(hostPort).min(1),
  min_up: z.number().int().min(0).default(1),
  /** optional admin login to read SHOW POOLS / SHOW LISTS (clients waiting) */
  admin: z
    .strictObject({
      user: z.string().min(1),
      password_file: z.string().min(1).optional(),
      dbname: z.string().min(1).default('pgbouncer'),
    })
    .optional(),
})

const postgresCheck = z.strictObject({
  url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgresql:// URL'),
  password_file: z.string().min(1).optional(),
  query: z.string().min(1).default('SELECT 1'),
})

const systemCheck = z.strictObject({
  /** the VRRP interface that must be up */
  interface: z.string().min(1).optional(),
  /** VIPs to look for on this host (reported, never a failure by themselves) */
  vips: z.array(z.string().min(1)).default([]),
})

const webhook = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -'),
  url: z.url({ protocol: /^https?$/ }),
  format: z.enum(['standard', 'slack', 'pagerduty', 'alertmanager']).default('standard'),
  secret_file: z.string().min(1).optional(),
  timeout_ms: positiveMs.default(5000),
  max_age: duration.default(24 * 3_600_000),
  /** event types to send; all when omitted */
  events: z.array(z.string().min(1)).optional(),
  /** PagerDuty Events v2 routing key file (format pagerduty) */
  routing_key_file: z.string().min(1).optional(),
})

export const configSchema = z.strictObject({
  node: z.string().min(1).optional(),
  state_dir: z.string().min(1).default('/var/lib/ha-agent'),
  runtime_dir: z.string().min(1).default('/run/ha-agent'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  api: z
    .strictObject({
      listen: hostPort.nullable().default('127.0.0.1:9471'),
    })
    .default({ listen: '127.0.0.1:9471' }),
  checks: z
    .strictObject({
      interval_ms: positiveMs.default(1000),
      timeout_ms: positiveMs.default(1000),
      /** consecutive results before check.failed / check.recovered is sent */
      fall: z.number().int().positive().default(2),
      rise: z.number().int().positive().default(2),
      haproxy: haproxyCheck.optional(),
      pgbouncer: pgbouncerCheck.optional(),
      postgres: postgresCheck.optional(),
      system: systemCheck.optional(),
    })
    .default({ interval_ms: 1000, timeout_ms: 1000, fall: 2, rise: 2 }),
  keepalived: z
    .strictObject({
      track_file: z.string().min(1).nullable().default('/run/ha-agent/fault'),
      notify_fifo: z.string().min(1).nullable().default(null),
    })
    .optional(),
  webhooks: z.array(webhook).default([]),
  peers: z.array(z.url({ protocol: /^https?$/ })).default([]),
  cluster: z
    .strictObject({
      /** shared bearer token for peer requests to /status */
      token_file: z.string().min(1).optional(),
      poll_interval_ms: positiveMs.default(1000),
      poll_timeout_ms: positiveMs.default(500),
      split_brain_after_ms: positiveMs.default(3000),
      /** flap damping: more than max transitions within window holds the state */
      flap_max: z.number().int().positive().default(4),
      flap_window_ms: positiveMs.default(60_000),
    })
    .optional(),
  heartbeat: z.string().min(1).nullable().default(null),
})

export type RawConfig = z.input<typeof configSchema>
export type ParsedConfig = z.output<typeof configSchema>
