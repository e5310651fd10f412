// What the outbox stores and webhooks carry (contract section 3).

export const EVENT_TYPES = [
  'vrrp.transition',
  'check.failed',
  'check.recovered',
  'cluster.split_brain',
  'cluster.split_brain_resolved',
  'cluster.flap_damped',
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
