// `ha-agent run`: keeps fresh verdicts, keeps keepalived's track_file current,
// delivers the outbox, reads the notify FIFO, serves the control socket and the
// HTTP API. Started by a function that returns stop(), so tests run it in-process.
import { resolve } from 'node:path'
import type { ScheduledTask } from 'node-cron'
import type { FastifyInstance } from 'fastify'
import { buildApp, createMetrics, type AgentMetrics, type StatusSnapshot } from '../api/index.js'
import { configuredChecks, runChecks, type CheckName, type CheckResult, type Verdict } from '../checks/index.js'
import { splitHostPort, type AgentConfig } from '../config/index.js'
import { controlSocketPath, startControlServer, type ControlRequest, type ControlResponse } from '../control/index.js'
import { forkOrderMicros, openNotifyFifo, readInstances, recordVrrpTransition, type NotifyFifo, type Transition } from '../keepalived/index.js'
import type { Logger } from '../log/index.js'
import { openOutbox, type NewEvent, type Outbox } from '../outbox/index.js'
import { createHaproxyWatch, type HaproxyWatch } from '../haproxy/index.js'
import { startDispatcher, type Dispatcher } from '../webhooks/index.js'
import { CLUSTER_DEFAULTS, FlapDamper, startCluster, type Cluster } from '../cluster/index.js'
import { CheckDebouncer } from './debounce.js'
import { writeTrackFile } from './track-file.js'
import { removeVerdictFile, writeVerdictFile } from '../launcher/verdict-file.js'
import { decideFault, type FaultDecision } from './fault.js'
import { VERSION } from '../cli/version.js'

export interface Daemon {
  stop(): Promise<void>
  reload(config: AgentConfig): Promise<void>
  snapshot(): StatusSnapshot
  /** a VRRP transition from a source other than notify scripts (the FIFO) */
  onTransition(t: Transition, source: 'fifo' | 'notify'): Promise<void>
  /** runs the checks now and returns the verdict (also what the loop does) */
  checkNow(): Promise<Verdict>
  readonly metrics: AgentMetrics
}

export interface DaemonOptions {
  config: AgentConfig
  logger: Logger
}

const RECENT_TRANSITIONS = 20

function toSnapshotCheck(c: CheckResult) {
  return { name: c.name, status: c.status, latency_ms: c.latencyMs, detail: c.detail, checked_at: c.checkedAt }
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger
  let config = opts.config
  const startedAt = new Date().toISOString()
  let latest: Verdict | undefined
  let latestAt = 0
  let debouncer = new CheckDebouncer(config.checks.fall, config.checks.rise)
  const flapSettings = () => ({ ...CLUSTER_DEFAULTS, ...config.cluster })
  let flap = new FlapDamper(flapSettings().flap_max, flapSettings().flap_window_ms)
  let watch: HaproxyWatch | undefined
  let watchKnown = false
  let fault: FaultDecision = { fault: false, reason: 'starting', checkExit: 0 }
  let trackWritten: boolean | undefined
  let outbox: Outbox
  let dispatcher: Dispatcher | undefined
  let control: { close(): Promise<void> } | undefined
  let api: FastifyInstance | undefined
  let heartbeat: ScheduledTask | undefined
  let fifo: NotifyFifo | undefined
  let cluster: Cluster | undefined
  let loopTimer: NodeJS.Timeout | undefined
  let instancesTimer: NodeJS.Timeout | undefined
  let checking: Promise<Verdict> | undefined
  let stopped = false
  const recent: StatusSnapshot['recent_transitions'] = []
  const seenInstanceState = new Map<string, string>()

  const snapshot = (): StatusSnapshot => {
    const stats = dispatcher?.stats() ?? { pending: 0, dead: 0, webhooks: [] }
    const w = watch?.current()
    return {
      node: config.node,
      version: VERSION,
      healthy: (latest?.healthy ?? false) && !fault.fault,
      ready: true,
      instances: readInstances(config.state_dir).map((i) => ({ name: i.name, state: i.state, priority: i.priority, since: i.since })),
      checks: (latest?.checks ?? []).map(toSnapshotCheck),
      outbox: { pending: stats.pending, dead: stats.dead, spooled: 0, orphaned: [], full: null },
      keepalived: { up: null, pid_file: null, detail: 'not watched' },
      peers: cluster?.peers() ?? [],
      track_file: config.keepalived?.track_file ? { path: config.keepalived.track_file, fault: fault.fault, reason: fault.reason } : null,
      haproxy_watch: w ? { up: w.up, detail: w.detail, since: new Date(w.since).toISOString() } : null,
      split_brain: cluster?.splitBrain() ?? [],
      webhooks: stats.webhooks.map((s) => ({
        name: s.name,
        pending: s.pending,
        dead: s.dead,
        ...(s.lastResult ? { last_result: s.lastResult } : {}),
        ...(s.lastError ? { last_error: s.lastError } : {}),
        ...(s.nextAttemptAt ? { next_attempt_at: s.nextAttemptAt } : {}),
      })),
      recent_transitions: [...recent],
      reload: null,
      started_at: startedAt,
    }
  }
  const metrics = createMetrics(snapshot)

  const emit = async (event: NewEvent) => {
    try {
      await outbox.append(event)
      dispatcher?.kick()
    } catch (err) {
      logger.error({ err, type: event.type }, 'cannot store event in the outbox')
    }
  }

  let relativeSince: number | undefined
  let confirmTimer: NodeJS.Timeout | undefined
  const confirmMs = () => 2 * Math.max(config.checks.interval_ms, config.cluster?.poll_interval_ms ?? 0)

  /** Every change of the verdict or the track_file decision, also published for the sh launcher. */
  const updateFault = () => {
    decideTrackFile()
    publishVerdict()
  }

  /** The one place that decides the track_file value. */
  const decideTrackFile = () => {
    // A check round or peer poll finishing after stop() (or mid-reload) decides nothing.
    if (stopped || !dispatcher) return
    const w = watch?.current()
    let next = decideFault({
      haproxy: config.checks.haproxy ? (watchKnown && w ? { up: w.up, detail: w.detail } : undefined) : null,
      verdict: latest,
      peers: cluster?.peers() ?? [],
    })
    if (next.fault && next.relative) {
      relativeSince ??= Date.now()
      const left = relativeSince + confirmMs() - Date.now()
      if (left > 0) {
        clearTimeout(confirmTimer)
        confirmTimer = setTimeout(updateFault, left + 5)
        confirmTimer.unref()
        next = { ...next, fault: false, reason: `confirming (${left} ms): ${next.reason}` }
      }
    } else relativeSince = undefined
    // Flap damping holds deep-check (relative health) changes only: a dead HAProxy
    // is never hidden, whatever the history.
    if (!next.pending && trackWritten !== undefined && next.fault !== trackWritten && !next.reason.startsWith('HAProxy gone')) {
      const d = flap.shouldHold()
      if (d.hold) {
        if (d.started) {
          metrics.flapDamped.inc({ instance: 'track_file' })
          logger.warn({ reason: d.reason, wanted: next.fault }, 'flap damping: holding the track_file')
          void emit({ type: 'cluster.flap_damped', data: { node: config.node, reason: d.reason, held_fault: trackWritten, wanted_fault: next.fault } })
        }
        fault = { ...next, fault: trackWritten, reason: `flap damping: ${d.reason} (wanted: ${next.reason})` }
        return
      }
    }
    const changed = next.fault !== fault.fault || next.reason !== fault.reason
    fault = next
    const path = config.keepalived?.track_file
    if (!path || next.pending) return
    if (trackWritten === next.fault) return
    try {
      writeTrackFile(path, next.fault)
      trackWritten = next.fault
      if (changed) logger[next.fault ? 'warn' : 'info']({ track_file: path, fault: next.fault, reason: next.reason }, next.fault ? 'local fault: track_file set to 1' : 'healthy: track_file set to 0')
    } catch (err) {
      logger.error({ err, track_file: path }, 'cannot write keepalived track_file')
    }
  }

  const applyVerdict = async (v: Verdict) => {
    latest = v
    latestAt = Date.now()
    for (const c of v.checks) {
      metrics.checkUp.set({ check: c.name }, c.status === 'pass' ? 1 : 0)
      metrics.checkDuration.set({ check: c.name }, c.latencyMs / 1000)
      for (const type of debouncer.feed(c)) {
        logger[type === 'check.failed' ? 'warn' : 'info']({ check: c.name, detail: c.detail }, type)
        await emit({ type, data: { node: config.node, check: c.name, detail: c.detail, latency_ms: c.latencyMs } })
      }
    }
    updateFault()
  }

  const checkNow = (): Promise<Verdict> => {
    // Never overlapping: a slow round is shared by whoever asks meanwhile.
    checking ??= runChecks(config)
      .then(async (v) => {
        const verdict: Verdict = { ...v, source: 'daemon' }
        await applyVerdict(verdict)
        return verdict
      })
      .finally(() => {
        checking = undefined
      })
    return checking
  }

  const loop = () => {
    if (stopped) return
    void checkNow().finally(() => {
      if (stopped) return
      loopTimer = setTimeout(loop, config.checks.interval_ms)
      loopTimer.unref()
    })
  }

  /** control op "check": the latest verdict when fresh, with the fast watch's view of HAProxy on top. */
  const freshVerdict = async (only: CheckName[] | undefined, timeoutMs: number): Promise<Verdict> => {
    const wanted = only?.length ? only : configuredChecks(config)
    // The loop starts a round interval_ms after the last one ended, so a verdict is
    // up to interval + round time old in normal running: anything younger than two
    // intervals is the loop's current view (HAProxy's state is live, from the watch).
    const fresh = latest && Date.now() - latestAt < 2 * config.checks.interval_ms && wanted.every((n) => latest!.checks.some((c) => c.name === n))
    let checks: CheckResult[]
    if (fresh) checks = latest!.checks.filter((c) => wanted.includes(c.name))
    else checks = (await runChecks(config, { only: wanted, timeoutMs })).checks
    return viewOf(checks)
  }

  /** The checks with the fast watch's view of HAProxy on top, and relative health. */
  const viewOf = (results: CheckResult[]): Verdict => {
    let checks = results
    const w = watch?.current()
    if (w && watchKnown && !w.up) {
      checks = checks.map((c) => (c.name === 'haproxy' ? { ...c, status: 'fail', detail: w.detail, checkedAt: new Date(w.since).toISOString() } : c))
    }
    // Relative health: a deep-check failure the peer sees too is not ours to act on.
    let healthy = checks.every((c) => c.status === 'pass')
    if (!healthy && fault.checkExit === 0 && fault.shared && checks.every((c) => c.status === 'pass' || fault.shared!.includes(c.name))) healthy = true
    return { healthy, checks, checkedAt: new Date().toISOString(), source: 'daemon' }
  }

  /**
   * runtime_dir/verdict: what `ha-agent check` (no --only) gets from freshVerdict()
   * now, for the sh launcher to answer without starting Node.js. It expires as
   * the round it comes from ages (2 intervals, like freshVerdict, plus a timeout).
   */
  let publishFailed = false
  let published = ''
  const publishVerdict = () => {
    if (stopped || !latest || !config.configPath) return
    const verdict = viewOf(latest.checks)
    const expiresAt = latestAt + 2 * config.checks.interval_ms + config.checks.timeout_ms
    // A peer poll that changes nothing needs no new file (a write and a rename each).
    const key = `${expiresAt} ${verdict.healthy} ${JSON.stringify(verdict.checks)}`
    if (key === published) return
    try {
      writeVerdictFile(config.runtime_dir, { exitCode: verdict.healthy ? 0 : 1, configPath: resolve(config.configPath), verdict, expiresAt })
      published = key
      publishFailed = false
    } catch (err) {
      if (!publishFailed) logger.warn({ err, runtime_dir: config.runtime_dir }, 'cannot publish the verdict file: `ha-agent check` starts Node.js meanwhile')
      publishFailed = true
    }
  }
  const unpublishVerdict = () => {
    published = ''
    try {
      removeVerdictFile(config.runtime_dir)
    } catch (err) {
      logger.warn({ err, runtime_dir: config.runtime_dir }, 'cannot remove the verdict file')
    }
  }

  /** `check`/`notify` started with another config file must not take this daemon's word for it. */
  const runsOtherConfig = (path: string | undefined) => !!path && !!config.configPath && resolve(path) !== resolve(config.configPath)

  const handleControl = async (req: ControlRequest): Promise<ControlResponse> => {
    switch (req.op) {
      case 'ping':
        return { ok: true, pong: true }
      case 'status':
        return { ok: true, status: snapshot() as unknown as Record<string, unknown> }
      case 'notify': {
        if (runsOtherConfig(req.configPath)) return { ok: false, error: `this daemon runs ${config.configPath}, not ${req.configPath}` }
        // The notify process waits for this answer, so its /proc entry (its fork time) is still there.
        const event = await recordVrrpTransition({
          stateDir: config.state_dir, node: config.node, webhooks: config.webhooks,
          transition: req.transition, order: forkOrderMicros(req.pid, config.state_dir), source: 'notify',
        })
        dispatcher?.kick()
        scanInstances()
        return { ok: true, recorded: event.id }
      }
      case 'check':
        if (runsOtherConfig(req.configPath)) return { ok: false, error: `this daemon runs ${config.configPath}, not ${req.configPath}` }
        return { ok: true, verdict: await freshVerdict(req.only, req.timeoutMs ?? config.checks.timeout_ms) }
      case 'webhook-test': {
        const targets = config.webhooks.filter((w) => !req.name || w.name === req.name)
        if (!targets.length) return { ok: false, error: req.name ? `no webhook named "${req.name}"` : 'no webhooks configured' }
        const ev = await outbox.append({ type: 'agent.test', data: { node: config.node, state: 'test' }, only: targets.map((w) => w.name) })
        dispatcher?.kick()
        return { ok: true, deliveries: await dispatcher!.waitFor(ev.id, req.timeoutMs) }
      }
    }
  }

  const onTransition = async (t: Transition, source: 'fifo' | 'notify') => {
    const at = new Date()
    if (source === 'fifo') {
      try {
        await recordVrrpTransition({
          stateDir: config.state_dir, node: config.node, webhooks: config.webhooks,
          transition: t, order: Math.floor((performance.timeOrigin + performance.now()) * 1000), source,
        })
        dispatcher?.kick()
      } catch (err) {
        logger.error({ err, instance: t.instance, state: t.state }, 'cannot record VRRP transition from the notify FIFO')
      }
    }
    noteTransition(t.instance, t.state, at.toISOString(), source)
  }

  const noteTransition = (instance: string, state: string, at: string, source: string) => {
    if (seenInstanceState.get(instance) === state) return
    seenInstanceState.set(instance, state)
    metrics.transitions.inc({ instance, state })
    recent.unshift({ instance, state, at, source })
    recent.length = Math.min(recent.length, RECENT_TRANSITIONS)
    logger.info({ instance, state, source }, 'VRRP transition')
  }

  /** notify scripts write the state store from their own processes: pick their changes up. */
  const scanInstances = () => {
    for (const i of readInstances(config.state_dir)) noteTransition(i.name, i.state, i.since, 'notify')
  }

  const startParts = async () => {
    outbox = openOutbox({ stateDir: config.state_dir, webhooks: config.webhooks })
    dispatcher = startDispatcher({
      stateDir: config.state_dir,
      webhooks: config.webhooks,
      logger: logger.child({ component: 'webhooks' }),
      onResult: (webhook, result) => metrics.deliveries.inc({ webhook, result }),
    })
    for (const i of readInstances(config.state_dir)) seenInstanceState.set(i.name, i.state)
    instancesTimer = setInterval(scanInstances, 250)
    instancesTimer.unref()
    watchKnown = false
    trackWritten = undefined
    if (config.checks.haproxy) {
      const h = config.checks.haproxy
      watch = createHaproxyWatch({
        socket: h.socket,
        intervalMs: h.watch_interval_ms,
        timeoutMs: Math.max(config.checks.timeout_ms, h.watch_interval_ms * 3),
        onChange: (up, detail) => {
          watchKnown = true
          logger[up ? 'info' : 'warn']({ socket: h.socket, detail }, up ? 'HAProxy runtime API answers' : 'HAProxy gone')
          updateFault()
        },
      })
    } else updateFault()
    if (config.keepalived?.notify_fifo) {
      fifo = openNotifyFifo({ path: config.keepalived.notify_fifo, logger, onTransition: (t) => void onTransition(t, 'fifo') })
    }
    if (config.peers.length) {
      cluster = startCluster({
        config,
        logger: logger.child({ component: 'cluster' }),
        localInstances: () => readInstances(config.state_dir),
        emit: (e) => void emit(e),
        onPeers: () => updateFault(),
      })
    }
    control = await startControlServer({ path: controlSocketPath(config.runtime_dir), handle: handleControl })
    if (config.api.listen) {
      const { host, port } = splitHostPort(config.api.listen)
      api = buildApp({ snapshot, metrics, logger, ...(cluster ? { authorize: cluster.authorize } : {}) })
      await api.listen({ host, port })
    }
    if (config.heartbeat) {
      // node-cron loads only when a heartbeat is configured
      const { schedule } = await import('node-cron')
      heartbeat = schedule(config.heartbeat, () => void emit({ type: 'agent.heartbeat', data: { node: config.node, state: fault.fault ? 'fault' : 'ok' } }))
    }
    loop()
  }

  const stopParts = async () => {
    clearTimeout(loopTimer)
    clearTimeout(confirmTimer)
    clearInterval(instancesTimer)
    void heartbeat?.stop()
    heartbeat = undefined
    watch?.stop()
    watch = undefined
    watchKnown = false
    cluster?.stop()
    cluster = undefined
    await fifo?.stop()
    fifo = undefined
    await control?.close()
    control = undefined
    await api?.close()
    api = undefined
    await dispatcher?.stop()
    dispatcher = undefined
    await checking?.catch(() => undefined)
  }

  await startParts()
  logger.info({ node: config.node, checks: configuredChecks(config), webhooks: config.webhooks.map((w) => w.name), api: config.api.listen }, 'ha-agent daemon started')

  return {
    metrics,
    snapshot,
    onTransition,
    checkNow,
    async reload(next) {
      logger.info('reloading configuration')
      await stopParts()
      if (next.runtime_dir !== config.runtime_dir) unpublishVerdict()
      config = next
      debouncer = new CheckDebouncer(config.checks.fall, config.checks.rise)
      flap = new FlapDamper(flapSettings().flap_max, flapSettings().flap_window_ms)
      await startParts()
    },
    async stop() {
      stopped = true
      await stopParts()
      unpublishVerdict()
      logger.info('ha-agent daemon stopped')
    },
  }
}
