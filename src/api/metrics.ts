// GET /metrics (contract section 4). Every ha-agent metric is prefixed ha_agent_;
// Node's standard process_* and nodejs_* metrics keep their usual names so generic
// dashboards find them. No label is called `instance` or `job`: Prometheus sets
// those on every scrape (a VRRP instance is `vrrp_instance`), and no label value
// carries a secret.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { VRRP_STATES } from '../events/index.js'
import type { StatusSnapshot } from './status.js'
import { urlLabel } from '../redact/index.js'

export const DELIVERY_RESULTS = ['delivered', 'retry', 'dead'] as const

/** What the daemon records as things happen; everything else is read from the snapshot at scrape time. */
export interface AgentMetrics {
  registry: Registry
  checkUp: Gauge<'check'>
  checkDuration: Gauge<'check'>
  transitions: Counter<'vrrp_instance' | 'state'>
  deliveries: Counter<'webhook' | 'result'>
  flapDamped: Counter<never>
  switchovers: Counter<'result'>
}

export const SWITCHOVER_RESULTS = ['moved', 'refused', 'failed'] as const

// A URL as a label value is `scheme://host:port`, nothing else (one helper for
// every surface that shows a URL: src/redact/).
export { urlLabel }

// prom-client's three gauges named *_total break the naming rules (`promtool check
// metrics`: "non-counter metrics should not have _total suffix"); each is the sum of
// its per-type sibling (nodejs_active_handles{type} and so on), so nothing is lost.
// prometheus/client_js#283 agrees they should go.
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** A private registry (never prom-client's global one), read from `snapshot()` at each scrape. */
export function createMetrics(snapshot: () => StatusSnapshot): AgentMetrics {
  const registry = new Registry()
  // The event-loop lag histogram samples every 10 ms by default: 100 wake-ups a
  // second in an otherwise idle daemon. Once a second is enough for a gauge.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 })
  for (const name of MISNAMED_DEFAULTS) if (registry.getSingleMetric(name)) registry.removeSingleMetric(name)

  // One snapshot per scrape (it reads the state store from disk): registry.metrics()
  // calls every collect() in one synchronous pass, so they share what the first read.
  let cached: StatusSnapshot | undefined
  const snap = () => {
    if (!cached) {
      cached = snapshot()
      queueMicrotask(() => (cached = undefined))
    }
    return cached
  }
  /** A metric in the private registry whose `collect` gets this scrape's snapshot. */
  const scraped = <M, L extends string>(name: string, help: string, labelNames: readonly L[], collect: (m: M, s: StatusSnapshot) => void) => ({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: M) {
      collect(this, snap())
    },
  })
  /** A gauge set afresh from each scrape's snapshot. */
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[], collect: (g: Gauge<L>, s: StatusSnapshot) => void) =>
    new Gauge<L>(
      scraped<Gauge<L>, L>(name, help, labelNames, (g, s) => {
        g.reset()
        collect(g, s)
      }),
    )
  /** A counter the daemon increments; every label set `known` names is shown from 0 (a first step increase() can see). */
  const counterFromZero = <L extends string>(name: string, help: string, labelNames: readonly L[], known: (s: StatusSnapshot) => Array<Record<L, string>>) =>
    new Counter<L>(
      scraped<Counter<L>, L>(name, help, labelNames, (c, s) => {
        for (const labels of known(s)) c.inc(labels, 0)
      }),
    )

  gauge('ha_agent_build_info', 'Always 1; the version label is the running ha-agent version.', ['version'], (g, s) => g.set({ version: s.version }, 1))
  gauge('ha_agent_healthy', '1 when this node is healthy (what GET /health answers 200 for), 0 when not.', [], (g, s) => g.set(s.healthy ? 1 : 0))
  gauge('ha_agent_ready', '1 once every part of the daemon has started and the first track_file decision is written.', [], (g, s) => g.set(s.ready ? 1 : 0))

  const checkUp = new Gauge({ name: 'ha_agent_check_up', help: '1 when the health check passed at its last run on this node, 0 when it failed.', labelNames: ['check'] as const, registers: [registry] })
  const checkDuration = new Gauge({ name: 'ha_agent_check_duration_seconds', help: 'How long the last run of the health check took.', labelNames: ['check'] as const, registers: [registry] })

  gauge('ha_agent_vrrp_state', 'keepalived VRRP state of the instance on this node: 1 for the current state, 0 for the others.', ['vrrp_instance', 'state'], (g, s) => {
    for (const i of s.instances) {
      const states: string[] = [...VRRP_STATES]
      if (!states.includes(i.state)) states.push(i.state)
      for (const state of states) g.set({ vrrp_instance: i.name, state }, i.state === state ? 1 : 0)
    }
  })
  gauge('ha_agent_vrrp_priority', 'VRRP priority keepalived reported for the instance with its last transition on this node.', ['vrrp_instance'], (g, s) => {
    for (const i of s.instances) if (i.priority !== null) g.set({ vrrp_instance: i.name }, i.priority)
  })
  // Every known instance shows all its states from 0, so increase() sees the first one.
  const transitions = counterFromZero('ha_agent_transitions_total', 'VRRP state changes seen on this node, by instance and the state entered.', ['vrrp_instance', 'state'], (s) =>
    s.instances.flatMap((i) => VRRP_STATES.map((state) => ({ vrrp_instance: i.name, state }))),
  )
  gauge('ha_agent_keepalived_up', '1 while keepalived runs on this node (its pid file names a live process), 0 when it does not; absent when not watched.', [], (g, s) => {
    // reset() leaves a label-less gauge at 0: "not known" must be no sample, not "down".
    if (s.keepalived.up === null) g.remove()
    else g.set(s.keepalived.up ? 1 : 0)
  })
  gauge('ha_agent_track_file_fault', '1 while the keepalived track_file says this node has a local fault (keepalived moves the VIP away), 0 otherwise.', [], (g, s) => g.set(s.track_file?.fault ? 1 : 0))

  const deliveries = counterFromZero('ha_agent_webhook_deliveries_total', 'Webhook delivery attempts by outcome: delivered, retry (will be tried again) or dead (moved to dead letters).', ['webhook', 'result'], (s) =>
    s.webhooks.flatMap((w) => DELIVERY_RESULTS.map((result) => ({ webhook: w.name, result }))),
  )
  gauge('ha_agent_outbox_pending', 'Events waiting for delivery, summed over all webhooks.', [], (g, s) => g.set(s.outbox.pending))
  gauge('ha_agent_outbox_dead', 'Dead letters (events given up on) kept under state_dir, summed over all webhooks; see `ha-agent webhook dead`.', [], (g, s) => g.set(s.outbox.dead))
  gauge('ha_agent_webhook_pending', 'Events waiting for delivery to the webhook.', ['webhook'], (g, s) => {
    for (const w of s.webhooks) g.set({ webhook: w.name }, w.pending)
  })
  gauge('ha_agent_webhook_dead_letters', 'Dead letters of the webhook; `ha-agent webhook replay` puts them back.', ['webhook'], (g, s) => {
    for (const w of s.webhooks) g.set({ webhook: w.name }, w.dead)
  })
  gauge('ha_agent_outbox_spooled', 'Events kept under runtime_dir because state_dir could not take them (full disk); lost on reboot.', [], (g, s) => g.set(s.outbox.spooled))
  gauge('ha_agent_outbox_orphaned_events', 'Events in the queue of a webhook no longer in the config: nobody delivers them.', ['queue'], (g, s) => {
    for (const o of s.outbox.orphaned) g.set({ queue: o.queue }, o.pending)
  })
  gauge('ha_agent_outbox_full', '1 while the outbox refuses new events (outbox.max_bytes reached), 0 otherwise.', [], (g, s) => g.set(s.outbox.full !== null ? 1 : 0))

  gauge('ha_agent_split_brain', '1 while this node and a peer are both MASTER for the VRRP instance, 0 otherwise.', ['vrrp_instance'], (g, s) => {
    for (const i of s.instances) g.set({ vrrp_instance: i.name }, 0)
    for (const b of s.split_brain) g.set({ vrrp_instance: b.instance }, 1)
  })
  gauge('ha_agent_peer_up', '1 when the peer ha-agent answered its last /status poll, 0 when not.', ['peer'], (g, s) => {
    for (const p of s.peers) g.set({ peer: urlLabel(p.url) }, p.reachable ? 1 : 0)
  })
  gauge('ha_agent_maintenance', '1 while this node is in maintenance (`ha-agent maintenance on`: out of MASTER, in FAULT, until turned off), 0 otherwise.', [], (g, s) => g.set(s.maintenance.on ? 1 : 0))
  gauge('ha_agent_yielding', '1 while this node runs with the yield of a switchover away from it (keepalived.yield_file: priority lowered, so it does not preempt the VIP back), 0 otherwise.', [], (g, s) => g.set(s.yielding ? 1 : 0))
  const switchovers = new Counter({ name: 'ha_agent_switchovers_total', help: 'Switchovers this node ran as the VIP holder, by outcome: moved (the VIP is on the target), refused (a precondition failed), failed (the target did not take it in time, undone).', labelNames: ['result'] as const, registers: [registry] })
  for (const result of SWITCHOVER_RESULTS) switchovers.inc({ result }, 0)
  const flapDamped = new Counter({ name: 'ha_agent_flap_damped_total', help: 'Times flap damping started holding the track_file because it changed too often.', registers: [registry] })

  // Prometheus's and Alertmanager's own names for the same thing.
  let lastSuccess: string | undefined
  gauge('ha_agent_config_last_reload_successful', '0 when the last config reload (SIGHUP) was rejected and the old config kept, 1 otherwise.', [], (g, s) => g.set(s.reload && !s.reload.ok ? 0 : 1))
  gauge('ha_agent_config_last_reload_success_timestamp_seconds', 'When the running config was loaded: the last successful reload, else the daemon start.', [], (g, s) => {
    // The snapshot keeps the last reload only: remember its time while it was a success.
    if (s.reload?.ok) lastSuccess = s.reload.at
    g.set(Date.parse(lastSuccess ?? s.started_at) / 1000)
  })

  return {
    registry,
    checkUp,
    checkDuration,
    transitions,
    deliveries,
    flapDamped,
    switchovers,
  }
}
