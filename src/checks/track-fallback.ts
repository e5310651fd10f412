// keepalived's track files while no daemon keeps them (stopped, crashed, frozen).
// The daemon's file says what it said last: a stale 1 would pin FAULT, a stale 0
// would silently turn fast failover off. `ha-agent check`, which keepalived runs
// every second anyway, writes what its own probe saw, by the daemon's rule for a
// node without word from its peer: HAProxy gone is a fault, any other failure is
// only a weight (see src/daemon/fault.ts). What an operator stored under
// state_dir holds here too: a node in maintenance stays in FAULT, and a node
// that handed the VIP over by a switchover keeps its yield. When the daemon
// comes back it rewrites the files from its own view.

// The track_file module itself, not keepalived/index.ts: this is the check path,
// which must not load the notify FIFO, the state store or the outbox.
import { readTrackFile, trackValue, writeTrackFile } from '../keepalived/track-file.js'
import { keepYieldFile, readMaintenance } from '../keepalived/operator-state.js'
import type { Verdict } from './types.js'

/** HAProxy gone: its runtime API did not answer at all (a backend down is an answer). */
export function haproxyGone(verdict: Verdict): boolean | undefined {
  const h = verdict.checks.find((c) => c.name === 'haproxy')
  if (!h) return undefined
  return h.status === 'fail' && h.data?.pid === undefined
}

type Stderr = { write(chunk: string): unknown }

export interface OperatorFiles {
  /** where maintenance.json and yield.json are */
  stateDir: string
  /** keepalived.yield_file (null: none) */
  yieldFile?: string | null
}

export function keepTrackFileWithoutDaemon(path: string, verdict: Verdict, stderr: Stderr, operator?: OperatorFiles): void {
  if (operator?.yieldFile) {
    try {
      if (keepYieldFile(operator.yieldFile, operator.stateDir)) stderr.write(`check: no daemon keeps ${operator.yieldFile}: set from ${operator.stateDir}/yield.json\n`)
    } catch (err) {
      stderr.write(`check: cannot write ${operator.yieldFile}: ${(err as Error).message}\n`)
    }
  }
  const maintenance = operator ? readMaintenance(operator.stateDir) : undefined
  const gone = haproxyGone(verdict)
  if (gone === undefined && !maintenance?.on) return
  const fault = !!gone || !!maintenance?.on
  const want = trackValue(fault)
  if (readTrackFile(path) === want) return
  try {
    writeTrackFile(path, fault)
    stderr.write(`check: no daemon keeps ${path}: set to ${want} (${maintenance?.on ? 'in maintenance' : gone ? 'HAProxy gone' : 'HAProxy answers'})\n`)
  } catch (err) {
    stderr.write(`check: cannot write ${path}: ${(err as Error).message}\n`)
  }
}
