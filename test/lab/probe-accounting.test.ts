// The lab client's accounting (test/fixtures/lab.ts): which failed attempts a
// hand-over stranded, and the gap with their wait left out. The rows are the
// ones CI printed on 2026-12-07 (booted lab, HAProxy killed on the master:
// one query cut at the failover, one stranded at the fail-back).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Probe, type ProbeRow } from '../fixtures/lab.js'

const at = 1_000_000
function probeOf(rows: ProbeRow[]): Probe {
  const file = join(mkdtempSync(join(tmpdir(), 'probe-')), 'probe.jsonl')
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  return new Probe(undefined as never, file)
}
/** Successful attempts every 50 ms from `from` to `to`, each taking 3 ms. */
const oks = (from: number, to: number): ProbeRow[] => {
  const rows: ProbeRow[] = []
  for (let t0 = from; t0 < to; t0 += 50) rows.push({ t: t0, done: t0 + 3, ok: true })
  return rows
}
const cut: ProbeRow = { t: at + 164, done: at + 170, ok: false, error: 'ECONNRESET', tcp: 1 }
const stranded: ProbeRow = { t: at + 3654, done: at + 6656, ok: false, error: 'timeout expired', tcp: 1 }
const rows = [...oks(at - 500, at + 150), cut, ...oks(at + 220, at + 3650), stranded, ...oks(at + 6670, at + 7000)]
// node 1 left MASTER (FAULT) at +174, node 2 (BACKUP, node 1 preempting) at +3656
const leftMaster = [at + 174, at + 3656]

t.test('a session that connected just before its node left MASTER and then waited out the timeout is stranded; a cut one is not', async (t) => {
  const probe = probeOf(rows)
  t.same(probe.strandedSince(at, leftMaster), [stranded])
  t.same(probe.strandedSince(at, [at + 174]), [], 'no hand-over near it: not stranded')
  t.same(probe.strandedSince(at, [at + 3656 + 400]), [], 'connected 400 ms before the node left: not the hand-over\'s')
  t.same(probe.strandedSince(at, [at + 3600]), [], 'connected after the node had left: not the old holder\'s')
})

t.test('the gap leaves out the wait of a stranded session, and only that', async (t) => {
  const probe = probeOf(rows)
  // last success before the stranded attempt done at +3623, the next at +6673; the failover's gap: +103 to +223
  t.equal(probe.outageSince(at), 3050, 'counted whole: the stranded wait is the gap')
  t.equal(probe.outageSince(at, probe.strandedSince(at, leftMaster)), 120, 'without its 3001 ms wait (after the handshake): 49 ms there, so the failover\'s 120 ms is the longest')
  const timedOutElsewhere: ProbeRow = { ...stranded, t: at + 2000, done: at + 5002 }
  const other = probeOf([...oks(at - 500, at + 1990), timedOutElsewhere, ...oks(at + 5010, at + 5500)])
  t.equal(other.outageSince(at, other.strandedSince(at, leftMaster)), 3060, 'a timeout away from any hand-over counts in full')
})
