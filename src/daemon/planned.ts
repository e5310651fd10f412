// Whether a VRRP transition now is one an operator asked for: the hand-over of
// a switchover (and the few seconds after it, while the notifies of its FAULT
// and BACKUP are still on their way), or this node in maintenance. Such a
// transition carries `planned` in its event, and pages nobody (webhooks/).
import type { PlannedReason } from '../events/index.js'
import type { DaemonState } from './state.js'

/** notify processes take a few hundred ms to start: a transition this soon after a hand-over is still its own */
export const PLANNED_AFTER_MS = 5000

export function plannedNow(state: Pick<DaemonState, 'handover' | 'handoverEndedAt' | 'maintenance'>, now = Date.now()): PlannedReason | undefined {
  if (state.handover || (state.handoverEndedAt && now - state.handoverEndedAt < PLANNED_AFTER_MS)) return 'switchover'
  if (state.maintenance.on) return 'maintenance'
  return undefined
}
