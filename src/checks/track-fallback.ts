// keepalived's track_file while no daemon keeps it (stopped, crashed, frozen).
// The daemon's file says what it said last: a stale 1 would pin FAULT, a stale 0
// would silently turn fast failover off. `ha-agent check`, which keepalived runs
// every second anyway, writes what its own probe saw, by the daemon's rule for a
// node without word from its peer: HAProxy gone is a fault, any other failure is
// only a weight (see src/daemon/fault.ts). When the daemon comes back it
// rewrites the file from its own view.

// The track_file module itself, not keepalived/index.ts: this is the check path,
// which must not load the notify FIFO, the state store or the outbox.
import { readTrackFile, trackValue, writeTrackFile } from '../keepalived/track-file.js'
import type { Verdict } from './types.js'

/** HAProxy gone: its runtime API did not answer at all (a backend down is an answer). */
export function haproxyGone(verdict: Verdict): boolean | undefined {
  const h = verdict.checks.find((c) => c.name === 'haproxy')
  if (!h) return undefined
  return h.status === 'fail' && h.data?.pid === undefined
}

export function keepTrackFileWithoutDaemon(path: string, verdict: Verdict, stderr: { write(chunk: string): unknown }): void {
  const gone = haproxyGone(verdict)
  if (gone === undefined) return
  const want = trackValue(gone)
  if (readTrackFile(path) === want) return
  try {
    writeTrackFile(path, gone)
    stderr.write(`check: no daemon keeps ${path}: set to ${want} (${gone ? 'HAProxy gone' : 'HAProxy answers'})\n`)
  } catch (err) {
    stderr.write(`check: cannot write ${path}: ${(err as Error).message}\n`)
  }
}
