// `ha-agent run`: the parts of the daemon, in the order they start (they stop in
// reverse). Each part is a file in parts/; what they share is the context
// (context.ts) and the state (state.ts); what keepalived is told is decided in
// track-decision.ts and verdict.ts.
import { createMetrics, StatusFeed, type AgentMetrics, type StatusSnapshot } from '../api/index.js'
import type { AgentConfig } from '../config/index.js'
import { StorageError } from '../errors/index.js'
import { NotifyOrder } from '../keepalived/index.js'
import type { Logger } from '../log/index.js'
import { spoolEvent, type NewEvent, type Outbox } from '../outbox/index.js'
import type { Dispatcher } from '../webhooks/index.js'
import type { DaemonContext, Hurry } from './context.js'
import { PartGroup } from './lifecycle.js'
import { apiPart } from './parts/api.js'
import { checkLoopPart, type CheckLoop } from './parts/check-loop.js'
import { clusterPart } from './parts/cluster.js'
import { controlPart } from './parts/control.js'
import { dispatcherPart } from './parts/dispatcher.js'
import { fifoPart } from './parts/fifo.js'
import { haproxyWatchPart } from './parts/haproxy-watch.js'
import { heartbeatPart } from './parts/heartbeat.js'
import { keepalivedPart } from './parts/keepalived.js'
import { outboxPart } from './parts/outbox.js'
import { operationsPart } from './operations.js'
import { watchdogPart } from './parts/watchdog.js'
import { notifySystemdReady } from './readiness.js'
import { buildSnapshot } from './snapshot.js'
import { DaemonState } from './state.js'
import { TrackDecider } from './track-decision.js'
import { VerdictPublisher } from './verdict-publisher.js'

export interface Daemon {
  stop(): Promise<void>
  /**
   * Moves to `next` (a config, or why there is none: a ConfigError). The old
   * config keeps running whole when the new one cannot; either way the outcome
   * is logged, in /status (`reload`) and in the metrics. Resolves with it.
   */
  reload(next: AgentConfig | Error): Promise<{ ok: boolean; error?: string }>
  snapshot(): StatusSnapshot
  /** runs the deep checks now (what the loop does) */
  checkNow(): Promise<import('../checks/index.js').Verdict>
  readonly metrics: AgentMetrics
  readonly state: DaemonState
}

export interface DaemonOptions {
  config: AgentConfig
  logger: Logger
  /** NOTIFY_SOCKET (systemd readiness) is read from here */
  env?: Record<string, string | undefined>
  /** stdout is the journal (the logger prefixes priorities; so must anything else that writes there) */
  journal?: boolean
}

/** Starts every part, or none: throws PartError naming the part that could not start. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { logger } = opts
  let config = opts.config
  let stopped = false
  const state = new DaemonState()
  const publisher = new VerdictPublisher(logger)
  let wakeTimer: NodeJS.Timeout | undefined
  const decider = new TrackDecider(config, {
    logger,
    wake: (ms) => {
      clearTimeout(wakeTimer)
      wakeTimer = setTimeout(() => ctx.decide(), ms + 5)
      wakeTimer.unref()
    },
    hurry: () => {
      group?.service<Hurry>('check loop')?.hurry()
      group?.service<Hurry>('cluster')?.hurry()
    },
    onFlapDamped: ({ reason, held, wanted }) => {
      metrics.flapDamped.inc()
      logger.warn({ reason, wanted }, 'flap damping: holding the track_file')
      void ctx.emit({ type: 'cluster.flap_damped', data: { node: config.node, reason, held_fault: held, wanted_fault: wanted } })
    },
  })

  // The parts need ctx; ctx reaches the parts' services through the group.
  let group: PartGroup
  const snapshot = () => buildSnapshot(config, state, group?.service<Dispatcher>('dispatcher'))
  const metrics = createMetrics(snapshot)
  // what peers listening on /status/stream are pushed
  const feed = new StatusFeed(snapshot)
  const ctx: DaemonContext = {
    config: () => config,
    logger,
    metrics,
    state,
    env: opts.env ?? {},
    journal: opts.journal ?? false,
    service: (name) => group.service(name),
    decide() {
      if (stopped) return
      decider.decide(config, state)
      publisher.publish(config, state)
      feed.changed()
      if (!state.ready && groupStarted && decider.settled(config)) becomeReady()
    },
    async emit(event: NewEvent) {
      const outbox = group.service<Outbox>('outbox')
      try {
        if (!outbox) throw new StorageError('the outbox is not running')
        await outbox.append(event)
        group.service<Dispatcher>('dispatcher')?.kick()
      } catch (err) {
        if (!(err instanceof StorageError)) throw err
        try {
          const spooled = spoolEvent(config.runtime_dir, event)
          logger.error({ type: event.type, spooled: spooled.path, reason: err.message }, 'event kept in the spool: state_dir cannot take it')
        } catch (spoolErr) {
          logger.error({ type: event.type, reason: err.message, spool: (spoolErr as Error).message }, 'event LOST: neither state_dir nor the spool can take it')
        }
      }
    },
    snapshot,
    feed,
    notifies: new NotifyOrder({ cacheDir: () => config.runtime_dir }),
  }

  group = new PartGroup([
    watchdogPart(ctx),
    outboxPart(ctx),
    operationsPart(ctx),
    dispatcherPart(ctx),
    controlPart(ctx),
    apiPart(ctx),
    haproxyWatchPart(ctx),
    checkLoopPart(ctx, () => decider.reconcile(config, state)),
    fifoPart(ctx),
    clusterPart(ctx),
    keepalivedPart(ctx),
    heartbeatPart(ctx),
  ])
  let groupStarted = false
  const becomeReady = () => {
    state.ready = true
    logger.info({ track_file: config.keepalived?.track_file ?? null, fault: state.fault.fault, reason: state.fault.reason }, 'ready')
    void notifySystemdReady(ctx.env, `track_file ${state.fault.fault ? 1 : 0}: ${state.fault.reason}`, logger)
  }

  await group.start(config)
  groupStarted = true
  ctx.decide()
  logger.info({ webhooks: config.webhooks.map((w) => w.name), api: config.api.listen }, 'ha-agent daemon started')

  return {
    metrics,
    state,
    snapshot,
    checkNow: () => {
      const loop = group.service<CheckLoop>('check loop')
      if (!loop) throw new Error('the check loop is not running')
      return loop.checkNow()
    },
    async reload(next) {
      const at = new Date().toISOString()
      const fail = (error: string) => {
        state.reload = { ok: false, at, error }
        logger.error({ error }, `reload failed, the running configuration stays: ${error}`)
        return { ok: false, error }
      }
      if (next instanceof Error) return fail(next.message)
      try {
        const before = config
        const restarted = await group.reload(next, () => (config = next))
        if (before.runtime_dir !== next.runtime_dir) publisher.remove(before)
        state.reload = { ok: true, at, error: null }
        logger.info({ restarted }, 'configuration reloaded')
        ctx.decide()
        return { ok: true }
      } catch (err) {
        return fail((err as Error).message)
      }
    },
    async stop() {
      stopped = true
      clearTimeout(wakeTimer)
      publisher.remove(config)
      await group.stop()
      logger.info('ha-agent daemon stopped')
    },
  }
}
