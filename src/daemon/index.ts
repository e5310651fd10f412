export { startDaemon, type Daemon, type DaemonOptions } from './daemon.js'
export { decideFault, type FaultDecision } from './fault.js'
export { PartGroup, type Part, type Running } from './lifecycle.js'
