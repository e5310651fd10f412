export { parseNotifyArgs, parseFifoLine, type Transition } from './notify-args.js'
export { currentInstances, recordTransition, readInstances, readInstance, writeInstance, isStale, stateAfter, type InstanceState } from './state-store.js'
export { openNotifyFifo, type NotifyFifo } from './fifo.js'
export { forkOrderMicros, sharedBootMicros, checkForkOrder } from './fork-order.js'
export { recordVrrpTransition, applyTransitionState, type RecordedTransition } from './record.js'
export { readTrackFile, trackValue, writeTrackFile } from './track-file.js'
export { NotifyOrder, notifyHoldMs, isHaAgentNotify, isNotifyProcess } from './inflight.js'
export {
  readMaintenance, writeMaintenance, readYield, writeYield, keepYieldFile, MAINTENANCE_OFF, NOT_YIELDING, MAINTENANCE_FILE, YIELD_STATE_FILE,
  type MaintenanceState, type YieldState,
} from './operator-state.js'
