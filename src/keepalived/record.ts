// One VRRP transition recorded the way every path does it (the notify command,
// the daemon on its behalf, the FIFO reader, the spool drain): the event into
// the outbox first, then the state file, never letting an older fork overwrite
// a newer state. When state_dir cannot take the event (full disk), it is kept in
// the spool under runtime_dir and the caller says so loudly.
import type { AgentEvent, PlannedReason } from '../events/index.js'
import { StorageError } from '../errors/index.js'
import type { RecordingConfig } from '../config/recording.js'
import { eventIdMicros, openOutbox, spoolEvent } from '../outbox/index.js'
import type { Transition } from './notify-args.js'
import { isStale, readInstance, stateAfter, writeInstance } from './state-store.js'
import { readMaintenance } from './operator-state.js'

export interface RecordedTransition {
  event: AgentEvent
  /** where the event is: the outbox (durable), or the spool (a tmpfs, until the daemon moves it) */
  stored: 'outbox' | 'spool'
  /** what went wrong on the way, for the caller to report: why it was spooled, or the state file that could not be written */
  problem?: string
}

/** What recording needs of a config (the daemon's, or what `notify` reads without one): where, who, for whom. */
export type RecordingTarget = Pick<RecordingConfig, 'node' | 'state_dir' | 'runtime_dir' | 'webhooks'>

/**
 * Records `transition` under `id` (chosen by the process keepalived forked, its
 * fork order in it, or by the FIFO reader). Throws StorageError only when the
 * spool under runtime_dir cannot take the event either.
 */
export async function recordVrrpTransition(
  config: RecordingTarget,
  transition: Transition,
  id: string,
  source: 'notify' | 'fifo',
  /** the daemon knows a switchover is under way; maintenance is read from state_dir here */
  opts: { planned?: PlannedReason } = {},
): Promise<RecordedTransition> {
  const stateDir = config.state_dir
  const planned = opts.planned ?? (readMaintenance(stateDir).on ? 'maintenance' : undefined)
  const order = eventIdMicros(id)
  const at = new Date(Math.floor(order / 1000))
  const recorded = readInstance(stateDir, transition.instance)
  // A notify forked earlier than the recorded transition (it lost the start-up
  // race) still reports its event, but must not overwrite the newer state.
  const stale = isStale(recorded, order)
  const input = {
    id,
    type: 'vrrp.transition' as const,
    timestamp: at.toISOString(),
    data: {
      node: config.node,
      instance: transition.instance,
      kind: transition.kind,
      state: transition.state,
      previous_state: stale ? null : (recorded?.state ?? null),
      priority: transition.priority,
      source,
      ...(planned ? { planned } : {}),
    },
  }
  let event: AgentEvent
  try {
    // The event first: if the disk fills up between the two writes, the state
    // file still names the last state that was reported.
    event = await openOutbox({ stateDir, webhooks: config.webhooks }).append(input)
  } catch (err) {
    if (!(err instanceof StorageError)) throw err
    const spooled = spoolEvent(config.runtime_dir, input)
    return { event: spooled.event, stored: 'spool', problem: `${err.message}; kept in ${spooled.path} until the daemon can move it (lost at reboot)` }
  }
  const problem = applyTransitionState(stateDir, event)
  return problem ? { event, stored: 'outbox', problem } : { event, stored: 'outbox' }
}

/**
 * Writes the instance's state from a recorded vrrp.transition event, unless a
 * newer one is recorded. Returns the problem when the state file cannot be
 * written (the event itself is safe).
 */
export function applyTransitionState(stateDir: string, event: AgentEvent): string | undefined {
  const d = event.data as Partial<{ instance: string; kind: Transition['kind']; state: Transition['state']; priority: number | null }>
  if (event.type !== 'vrrp.transition' || !d.instance || !d.state) return undefined
  const order = eventIdMicros(event.id)
  if (isStale(readInstance(stateDir, d.instance), order)) return undefined
  try {
    writeInstance(stateDir, stateAfter({ instance: d.instance, kind: d.kind ?? 'INSTANCE', state: d.state, priority: d.priority ?? null }, new Date(Math.floor(order / 1000)), order))
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}
