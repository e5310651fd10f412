// The track_file rule: when does this node declare a local fault (keepalived
// FAULT, the VIP moves to the peer)?
//
// | situation                                              | track_file | `check` exit |
// | ------------------------------------------------------ | ---------- | ------------ |
// | HAProxy gone here (runtime API closed / not answering) | 1 (fault)  | 1            |
// | HAProxy back < 2 s, a peer serves (track-decision.ts)  | 1 (held)   | as below     |
// | deep check fails here, a reachable peer passes it      | 1 (fault)  | 1            |
// | deep check fails here and on every reachable peer      | 0          | 0 (shared)   |
// | deep check fails here, no peer answers (or no peers)   | 0          | 1            |
// | everything passes                                      | 0          | 0            |
// | in maintenance (`ha-agent maintenance on`)             | 1 (fault)  | as above     |
// | handing the VIP over (`ha-agent switchover`)           | 1 (fault)  | as above     |
//
// A database outage seen by both nodes never takes the VIP away; a failure only
// this node sees moves it to the node that can do the job, once a check round here
// and a round of the peer that both began after it appeared still say so (track-decision.ts),
// so a node whose link just came back does not FAULT on the verdict it took while
// cut off. With no word from the
// peer we do not know it can do better (it may be dead): we never FAULT on deep
// checks then, and only the vrrp_script weight lowers our priority.
import type { CheckName, Verdict } from '../checks/index.js'
import type { PeerView } from '../cluster/index.js'
import type { PlannedReason } from '../events/index.js'

export interface FaultDecision {
  fault: boolean
  reason: string
  checkExit: 0 | 1
  /** the watch has not answered yet: do not write the track file */
  pending?: boolean
  /** failing checks every reachable peer fails too */
  shared?: CheckName[]
  /** a fault by comparison with a peer (not HAProxy gone): applied only once it persists */
  relative?: boolean
  /** a relative fault waiting for a new check round and a new peer poll to confirm it */
  confirming?: boolean
  /** a relative fault: the check that fails here and the peer (its url) that passes it */
  basis?: { check: string; peer: string }
  /** HAProxy itself is gone: never held back by flap damping */
  haproxyGone?: boolean
  /** what an operator asked for holds the FAULT: never confirmed, never damped */
  operator?: PlannedReason
}

/** What an operator asked of this node (state_dir): it wins over health, whatever it is. */
export interface OperatorHold {
  maintenance?: { on: boolean; reason: string | null }
  /** a switchover hands the VIP over to this node */
  handoverTo?: string
}

/** decideFault, with an operator's hold on top: maintenance and a hand-over under way say FAULT. */
export function decideTrack(input: Parameters<typeof decideFault>[0] & { operator?: OperatorHold }): FaultDecision {
  const base = decideFault(input)
  const m = input.operator?.maintenance
  const to = input.operator?.handoverTo
  if (!m?.on && !to) return base
  // What `check` answers stays the health verdict's; the file says FAULT, now, whatever the health.
  const held: FaultDecision = { fault: true, checkExit: base.checkExit, reason: '', ...(base.shared ? { shared: base.shared } : {}), ...(base.haproxyGone ? { haproxyGone: true } : {}) }
  if (m?.on) return { ...held, operator: 'maintenance', reason: `maintenance${m.reason ? `: ${m.reason}` : ''}` }
  return { ...held, operator: 'switchover', reason: `switchover: handing the VIP over to ${to}` }
}

export function decideFault(input: {
  /** null: HAProxy not configured; undefined: the watch has no verdict yet */
  haproxy: { up: boolean; detail: string } | null | undefined
  verdict: Verdict | undefined
  peers: readonly PeerView[]
}): FaultDecision {
  if (input.haproxy === undefined) return { fault: false, reason: 'waiting for the first HAProxy answer', checkExit: 0, pending: true }
  if (input.haproxy && !input.haproxy.up) return { fault: true, haproxyGone: true, reason: `HAProxy gone: ${input.haproxy.detail}`, checkExit: 1 }
  const failing = (input.verdict?.checks ?? []).filter((c) => c.status === 'fail' && c.name !== 'system')
  if (!failing.length) return { fault: false, reason: 'healthy', checkExit: 0 }
  const reachable = input.peers.filter((p) => p.reachable && p.checks)
  const names = failing.map((c) => c.name)
  if (!reachable.length) {
    return { fault: false, reason: `${names.join(', ')} failing; no peer answers, so no FAULT (weight only)`, checkExit: 1 }
  }
  for (const c of failing) {
    const better = reachable.find((p) => p.checks!.some((pc) => pc.name === c.name && pc.status === 'pass') && !p.fault)
    if (better) return { fault: true, relative: true, basis: { check: c.name, peer: better.url }, reason: `${c.name} fails here but passes on ${better.node ?? better.url}: ${c.detail}`, checkExit: 1 }
  }
  return { fault: false, reason: `${names.join(', ')} failing here and on every peer: shared failure, no FAULT`, checkExit: 0, shared: names }
}
