// What the outbox stores and webhooks carry (contract section 3).

export const EVENT_TYPES = [
  'vrrp.transition',
  'check.failed',
  'check.recovered',
  'cluster.split_brain',
  'cluster.split_brain_resolved',
  'cluster.flap_damped',
  'vrrp.switchover',
  'agent.maintenance',
  'agent.heartbeat',
  'agent.test',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

export const VRRP_STATES = ['MASTER', 'BACKUP', 'FAULT', 'STOP', 'DELETED'] as const
export type VrrpState = (typeof VRRP_STATES)[number]

export interface VrrpTransitionData {
  node: string
  instance: string
  kind: 'INSTANCE' | 'GROUP'
  state: VrrpState
  previous_state: VrrpState | null
  priority: number | null
  source: 'notify' | 'fifo'
  /** the transition was asked for: a switchover under way, or this node in maintenance (absent otherwise) */
  planned?: PlannedReason
  [key: string]: unknown
}

/** Why a transition was expected: an operator moved the VIP (`ha-agent switchover`, `ha-agent maintenance`). */
export type PlannedReason = 'switchover' | 'maintenance'

/** `vrrp.switchover`: the VIP moved on purpose (sent by the node that handed it over). */
export interface SwitchoverData {
  node: string
  from: string
  to: string
  forced: boolean
  /** from the FAULT hand-over to the target's MASTER, by the best timestamps known; null when not known */
  duration_ms: number | null
  [key: string]: unknown
}

/** `agent.maintenance`: this node entered or left maintenance. */
export interface MaintenanceData {
  node: string
  on: boolean
  reason: string | null
  [key: string]: unknown
}

export interface AgentEvent<D extends Record<string, unknown> = Record<string, unknown>> {
  /** `msg_` + a unique, time-ordered id without dots; the Standard Webhooks webhook-id */
  id: string
  type: EventType
  /** ISO-8601, when it happened */
  timestamp: string
  data: D
  /** optional webhook names this event is meant for (agent.test --name); all when absent */
  only?: string[]
}
