import { z } from 'zod'
import { EVENT_TYPES } from '../events/index.js'
import { parseBytes, parseDuration } from './units.js'
import { DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_RUNTIME_DIR, DEFAULT_STATE_DIR } from './peek.js'

// The outside contract's section 2. Every object is strict: an unknown key is
// an error that names its path, because a typo must not silently disable a check.
// Limits are checked here, once, so that `config check` rejects whatever `run`
// would fail on: a port outside 1-65535, a timer Node cannot hold.

/** The longest delay a Node.js timer holds (2^31-1 ms, ~24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9471')
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1))
    return port >= 1 && port <= 65535
  }, 'port must be 1-65535')

/** "500ms", "30s", "24h", "7d" or a number of ms: positive, finite, at most `max`. */
const duration = (max: number, maxText: string) =>
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
const timerMs = z
  .number()
  .int()
  .positive()
  .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (about 24.8 days: the longest delay a timer holds)`)

const bytes = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = parseBytes(v)
  if (n === undefined || n <= 0) {
    ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(v)} (use e.g. 268435456, 256MiB, 1GiB)` })
    return z.NEVER
  }
  return n
})

const haproxyCheck = z.strictObject({
  /** ha-agent's own stats socket at `level user` (haproxy/haproxy.cfg), not the operator's admin socket */
  socket: z.string().min(1).default('/run/haproxy/ha-agent.sock'),
  backends: z
    .array(z.strictObject({ name: z.string().min(1), min_up: z.number().int().min(0).default(1) }))
    .default([]),
  /** frontends that must be OPEN; empty means every frontend HAProxy reports */
  frontends: z.array(z.string().min(1)).optional(),
  /**
   * How often the daemon's fast watch sends a command on its held runtime-API
   * connection. HAProxy's death is seen when that connection closes (within ms,
   * whatever this is); the command keeps `stats timeout` from closing it and
   * catches an HAProxy that lives but no longer answers (within 3 intervals).
   */
  watch_interval_ms: timerMs.default(1000),
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

const DAY = 86_400_000

/** A local command as argv (no shell): argv[0] an absolute path. */
const command = z
  .array(z.string().refine((s) => !s.includes('\0'), 'must not contain a NUL byte'))
  .min(1, 'needs at least the program, e.g. ["/usr/local/bin/on-failover"]')
  .refine((argv) => argv.length === 0 || argv[0]!.startsWith('/'), {
    message: 'argv[0] must be an absolute path (no shell and no PATH lookup), e.g. ["/usr/local/bin/on-failover", "--quiet"]',
  })

/** format alertmanager: how often firing alerts are sent again (resend_interval's default) */
export const DEFAULT_RESEND_INTERVAL_MS = 60_000

/** The labels format alertmanager sets itself (webhooks/alertmanager-alerts.ts); a webhook's `labels` cannot replace them. */
export const RESERVED_LABELS = ['alertname', 'node', 'vrrp_instance', 'severity', 'check', 'webhook', 'test_id'] as const

/** Label names as Prometheus and Alertmanager take them; `__` is theirs. */
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const webhook = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -').max(100, 'at most 100 characters'),
    /** every format but exec */
    url: z.url({ protocol: /^https?$/ }).optional(),
    format: z.enum(['standard', 'slack', 'pagerduty', 'alertmanager', 'exec']).default('standard'),
    /** whsec_<base64> secret(s); several sign each request once per secret (key rotation) */
    secret_file: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** format exec: the command run for each event (argv, no shell) */
    command: command.optional(),
    timeout_ms: timerMs.default(5000),
    /** retried until then, then dead-lettered */
    max_age: duration(365 * DAY, '365d').default(DAY),
    /** event types to send; all when omitted (a misspelt type would silently send nothing: refused) */
    events: z.array(z.enum(EVENT_TYPES, { error: (i) => `unknown event type ${JSON.stringify(i.input)}: one of ${EVENT_TYPES.join(', ')}` })).optional(),
    /** PagerDuty Events v2 routing key file (format pagerduty) */
    routing_key_file: z.string().min(1).optional(),
    /** format alertmanager: firing alerts are sent again this often (default 1m), each ending 4 intervals later unless sent again */
    resend_interval: duration(3_600_000, '1h')
      .refine((ms) => ms >= 1000, 'must be at least 1s (Alertmanager is sent every firing alert this often)')
      .optional(),
    /** format alertmanager: labels added to every alert (e.g. the pair's name, a team), for routing */
    labels: z.record(z.string(), z.string().min(1, 'must not be empty (Alertmanager drops empty labels)')).optional(),
  })
  .superRefine((w, ctx) => {
    const issue = (key: string | Array<string>, message: string) => ctx.addIssue({ code: 'custom', path: Array.isArray(key) ? key : [key], message })
    if (w.format === 'exec') {
      if (!w.command) issue('command', 'required for format exec: the program and its arguments, e.g. ["/usr/local/bin/on-failover", "--quiet"]')
      if (w.url !== undefined) issue('url', 'not used by format exec (it runs `command`)')
      if (w.secret_file !== undefined) issue('secret_file', 'not used by format exec (nothing is signed)')
      if (w.routing_key_file !== undefined) issue('routing_key_file', 'only for format pagerduty')
    } else {
      if (w.url === undefined) issue('url', `required for format ${w.format}`)
      if (w.command !== undefined) issue('command', 'only for format exec')
    }
    if (w.format !== 'alertmanager') {
      for (const key of ['resend_interval', 'labels'] as const) {
        if (w[key] !== undefined) issue(key, `only for format alertmanager (this webhook is format ${w.format})`)
      }
    } else {
      if (w.secret_file !== undefined) issue('secret_file', 'not used by format alertmanager (Alertmanager checks no signature; put basic auth in the url)')
      if (w.routing_key_file !== undefined) issue('routing_key_file', 'only for format pagerduty')
    }
    for (const name of Object.keys(w.labels ?? {})) {
      if (!labelName.test(name)) issue(['labels', name], 'a label name is letters, digits and _, not starting with a digit')
      else if (name.startsWith('__')) issue(['labels', name], 'names starting with __ are reserved by Prometheus and Alertmanager')
      else if ((RESERVED_LABELS as readonly string[]).includes(name)) issue(['labels', name], `ha-agent sets this label itself (${RESERVED_LABELS.join(', ')})`)
    }
  })

export const configSchema = z.strictObject({
  node: z.string().min(1).optional(),
  state_dir: z.string().min(1).default(DEFAULT_STATE_DIR),
  runtime_dir: z.string().min(1).default(DEFAULT_RUNTIME_DIR),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** a daemon whose event loop stands still this long kills itself (systemd restarts it); null: no watchdog */
  watchdog_ms: timerMs.min(1000, 'must be at least 1000 ms').nullable().default(10_000),
  api: z
    .strictObject({
      listen: hostPort.nullable().default('127.0.0.1:9471'),
      /**
       * bearer token for readers of the API that are not peers (Prometheus, people);
       * the API accepts it or cluster.token_file's. Either guards every route but
       * /healthz, /health, /master and /backup.
       */
      token_file: z.string().min(1).optional(),
      /** serve the API on a non-loopback address with no token: only when the operator says so */
      allow_unauthenticated: z.boolean().default(false),
      /** serve the API over HTTPS (peers then use https:// and cluster.ca_file) */
      tls: z.strictObject({ cert_file: z.string().min(1), key_file: z.string().min(1) }).optional(),
    })
    .prefault({}),
  checks: z
    .strictObject({
      interval_ms: timerMs.default(1000),
      timeout_ms: timerMs.default(DEFAULT_CHECK_TIMEOUT_MS),
      /** consecutive results before check.failed / check.recovered is sent */
      fall: z.number().int().positive().default(2),
      rise: z.number().int().positive().default(2),
      haproxy: haproxyCheck.optional(),
      pgbouncer: pgbouncerCheck.optional(),
      postgres: postgresCheck.optional(),
      system: systemCheck.optional(),
    })
    .prefault({}),
  keepalived: z
    .strictObject({
      track_file: z.string().min(1).nullable().default('/run/ha-agent/fault'),
      notify_fifo: z.string().min(1).nullable().default(null),
      /**
       * keepalived's VRRP process pid file: tells whether keepalived runs
       * (ha_agent_keepalived_up, /master). keepalived 2.2 (Debian 12) and 2.3
       * (Debian 13) both write /run/vrrp.pid when started without -r, as
       * Debian's unit starts them (measured).
       */
      pid_file: z.string().min(1).nullable().default('/run/vrrp.pid'),
    })
    .optional(),
  outbox: z
    .strictObject({
      /** queues and dead letters together; past it new events are refused with a clear error */
      max_bytes: bytes.default(256 * 2 ** 20),
      /** dead letters older than this are deleted */
      dead_letter_max_age: duration(3650 * DAY, '3650d').default(7 * DAY),
    })
    .prefault({}),
  webhooks: z.array(webhook).default([]),
  peers: z.array(z.url({ protocol: /^https?$/ })).default([]),
  cluster: z
    .strictObject({
      /** shared bearer token: sent to the peers, and accepted by this node's API */
      token_file: z.string().min(1).optional(),
      /** CA certificate(s), PEM, that https:// peers' certificates must chain to (instead of the system's CAs) */
      ca_file: z.string().min(1).optional(),
      poll_interval_ms: timerMs.default(1000),
      poll_timeout_ms: timerMs.default(500),
      split_brain_after_ms: timerMs.default(3000),
      /** flap damping: more than max transitions within window holds the state */
      flap_max: z.number().int().positive().default(4),
      flap_window_ms: timerMs.default(60_000),
    })
    .prefault({}),
  /** node-cron schedule of agent.heartbeat events (checked with node-cron when the config is loaded in full) */
  heartbeat: z.string().min(1).nullable().default(null),
})

export type RawConfig = z.input<typeof configSchema>
export type ParsedConfig = z.output<typeof configSchema>
