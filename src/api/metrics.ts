import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { VRRP_STATES } from '../events/index.js'
import type { StatusSnapshot } from './status.js'

export interface AgentMetrics {
  registry: Registry
  checkUp: Gauge<'check'>
  checkDuration: Gauge<'check'>
  transitions: Counter<'instance' | 'state'>
  deliveries: Counter<'webhook' | 'result'>
  flapDamped: Counter<'instance'>
}

/** A private registry (never prom-client's global one), every name prefixed ha_agent_. */
export function createMetrics(snapshot: () => StatusSnapshot): AgentMetrics {
  const registry = new Registry()
  // The event-loop lag histogram samples every 10 ms by default: 100 wake-ups a
  // second in an otherwise idle daemon. Once a second is enough for a gauge.
  collectDefaultMetrics({ register: registry, prefix: 'ha_agent_', eventLoopMonitoringPrecision: 1000 })
  const checkUp = new Gauge({ name: 'ha_agent_check_up', help: '1 when the check passed at its last run', labelNames: ['check'] as const, registers: [registry] })
  const checkDuration = new Gauge({ name: 'ha_agent_check_duration_seconds', help: 'duration of the last run of the check', labelNames: ['check'] as const, registers: [registry] })
  const transitions = new Counter({ name: 'ha_agent_transitions_total', help: 'VRRP transitions seen by this daemon', labelNames: ['instance', 'state'] as const, registers: [registry] })
  const deliveries = new Counter({ name: 'ha_agent_webhook_deliveries_total', help: 'webhook delivery attempts by result (delivered, retry, dead)', labelNames: ['webhook', 'result'] as const, registers: [registry] })
  const flapDamped = new Counter({ name: 'ha_agent_flap_damped_total', help: 'times flap damping held the state', labelNames: ['instance'] as const, registers: [registry] })
  new Gauge({
    name: 'ha_agent_vrrp_state',
    help: '1 for the current VRRP state of the instance, 0 for the others',
    labelNames: ['instance', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const i of snapshot().instances) for (const s of VRRP_STATES) this.set({ instance: i.name, state: s }, i.state === s ? 1 : 0)
    },
  })
  new Gauge({
    name: 'ha_agent_outbox_pending',
    help: 'events waiting for delivery, summed over webhooks',
    registers: [registry],
    collect() {
      this.set(snapshot().outbox.pending)
    },
  })
  new Gauge({
    name: 'ha_agent_outbox_dead',
    help: 'dead-lettered events kept in state_dir/dead',
    registers: [registry],
    collect() {
      this.set(snapshot().outbox.dead)
    },
  })
  new Gauge({
    name: 'ha_agent_track_file_fault',
    help: '1 while the keepalived track_file says fault',
    registers: [registry],
    collect() {
      this.set(snapshot().track_file?.fault ? 1 : 0)
    },
  })
  new Gauge({
    name: 'ha_agent_split_brain',
    help: '1 while this node and a peer are both MASTER for the instance',
    labelNames: ['instance'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const s of snapshot().split_brain ?? []) this.set({ instance: s.instance }, 1)
    },
  })
  new Gauge({
    name: 'ha_agent_peer_up',
    help: '1 when the peer answered its last /status poll',
    labelNames: ['peer'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const p of snapshot().peers) this.set({ peer: p.url }, p.reachable ? 1 : 0)
    },
  })
  return { registry, checkUp, checkDuration, transitions, deliveries, flapDamped }
}
