// The outside contract's section 2: the whole document. Every object is strict:
// an unknown key is an error that names its path, because a typo must not
// silently disable a check. Limits are checked here, once, so that `config
// check` rejects whatever `run` would fail on: a port outside 1-65535, a timer
// Node cannot hold (the value shapes: schema-values.ts; a webhook entry:
// webhook-schema.ts).
import { z } from 'zod'
import { DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_RUNTIME_DIR, DEFAULT_STATE_DIR } from './peek.js'
import { bytes, DAY, duration, hostPort, reconnectMs, timerMs } from './schema-values.js'
import { webhookSchema } from './webhook-schema.js'

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
  /**
   * The daemon asks each PgBouncer on a held connection (and reads the admin
   * console on a held session); a new one at least this often shows what only
   * a new connection shows. 0: a new connection every round.
   */
  reconnect_interval_ms: reconnectMs,
})

const postgresCheck = z.strictObject({
  url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgresql:// URL'),
  password_file: z.string().min(1).optional(),
  query: z.string().min(1).default('SELECT 1'),
  /**
   * The daemon runs the query on a held session; a new session at least this
   * often shows what only a new one shows (authentication, max_connections,
   * PgBouncer's pool limits). 0: a new session every round.
   */
  reconnect_interval_ms: reconnectMs,
})

const systemCheck = z.strictObject({
  /** the VRRP interface that must be up */
  interface: z.string().min(1).optional(),
  /** VIPs to look for on this host (reported, never a failure by themselves) */
  vips: z.array(z.string().min(1)).default([]),
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
      /**
       * keepalived track_file with `weight -2`: 1 lowers this node's priority
       * below the peer's without FAULT. `ha-agent switchover` sets it on the node
       * that hands the VIP over, so that it does not preempt it back; null
       * disables switchover (maintenance needs only track_file).
       */
      yield_file: z.string().min(1).nullable().default('/run/ha-agent/yield'),
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
  webhooks: z.array(webhookSchema).default([]),
  peers: z.array(z.url({ protocol: /^https?$/ })).default([]),
  cluster: z
    .strictObject({
      /** shared bearer token: sent to the peers, and accepted by this node's API */
      token_file: z.string().min(1).optional(),
      /** CA certificate(s), PEM, that https:// peers' certificates must chain to (instead of the system's CAs) */
      ca_file: z.string().min(1).optional(),
      /**
       * How often a peer is polled while it does not push (and the heartbeat
       * asked of one that does); a peer silent for poll_interval_ms +
       * poll_timeout_ms is unreachable either way.
       */
      poll_interval_ms: timerMs.default(1000),
      poll_timeout_ms: timerMs.default(500),
      /** each peer pushes its /status to the other on a held stream (GET /status/stream); false: polls only */
      push: z.boolean().default(true),
      /** a peer that pushes is still polled in full this often: proof of life and of consistency */
      full_poll_interval_ms: timerMs.default(30_000),
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
