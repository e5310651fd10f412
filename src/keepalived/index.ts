export { parseNotifyArgs, parseFifoLine, type Transition } from './notify-args.js'
export { recordTransition, readInstances, readInstance, writeInstance, isStale, stateAfter, type InstanceState } from './state-store.js'
export { openNotifyFifo, type NotifyFifo } from './fifo.js'
export { forkOrderMicros, sharedBootMicros } from './fork-order.js'
