// One VRRP transition recorded the way every path does it (the notify command,
// the daemon on its behalf, the FIFO reader): the event into the outbox first,
// then the state file, never letting an older fork overwrite a newer state.
import type { WebhookConfig } from '../config/index.js'
import type { AgentEvent } from '../events/index.js'
import { openOutbox } from '../outbox/index.js'
import type { Transition } from './notify-args.js'
import { isStale, readInstance, stateAfter, writeInstance } from './state-store.js'

export async function recordVrrpTransition(opts: {
  stateDir: string
  node: string
  webhooks: readonly WebhookConfig[]
  transition: Transition
  /** microseconds since the epoch that order this transition (forkOrderMicros) */
  order: number
  source: 'notify' | 'fifo'
}): Promise<AgentEvent> {
  const { stateDir, transition, order } = opts
  const at = new Date(Math.floor(order / 1000))
  const recorded = readInstance(stateDir, transition.instance)
  // A notify forked earlier than the recorded transition (it lost the start-up
  // race) still reports its event, but must not overwrite the newer state.
  const stale = isStale(recorded, order)
  // The event first: if the disk fills up between the two writes, the state
  // file still names the last state that was reported.
  const event = await openOutbox({ stateDir, webhooks: opts.webhooks }).append({
    type: 'vrrp.transition',
    timestamp: at.toISOString(),
    orderMicros: order,
    data: {
      node: opts.node,
      instance: transition.instance,
      kind: transition.kind,
      state: transition.state,
      previous_state: stale ? null : (recorded?.state ?? null),
      priority: transition.priority,
      source: opts.source,
    },
  })
  if (!stale) writeInstance(stateDir, stateAfter(transition, at, order))
  return event
}
