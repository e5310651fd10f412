// The one place that decides what keepalived's track_file says, and writes it.
// decideFault (fault.ts) gives the rule; here it is applied over time:
// - a fault by comparison with a peer (not HAProxy gone) is applied once a check
//   round and a peer poll that both began after it appeared still say so: a
//   node whose link just came back does not FAULT on the verdict it took while
//   cut off, and a one-round blip moves nothing. Meanwhile both loops are asked
//   to hurry (their fast interval), so confirming costs a fraction of a second,
//   not two intervals;
// - flap damping: more than flap_max changes within flap_window_ms hold the
//   current value (a dead HAProxy is never hidden);
// - the file is rewritten when it differs from the decision, also when someone
//   else wrote it (`ha-agent check` keeps it truthful while the daemon is down);
// - what an operator asked for (maintenance, a switchover handing the VIP over:
//   fault.ts decideTrack) is applied at once, neither confirmed nor damped, and
//   neither is the way back from it; the yield file (keepalived.yield_file)
//   says what the stored yield says, written before the track_file so that a
//   switchover's yield and FAULT reach keepalived in that order;
// - HAProxy back after it was gone: the FAULT holds until it has answered for
//   HAPROXY_RISE_MS, while a peer can serve. A failback a second after the
//   failover lands on the client's first SYN resend: a SYN lost in the
//   failover's gap was resent into the failback's, and that connection waited
//   3 s (seen on booted nodes, where systemd restarts HAProxy within a
//   second). A crash-looping HAProxy does not drag the VIP back and forth either.
//   "A peer can serve" is what this node last heard from it, if it heard so
//   within two poll periods: the failover itself loads both nodes (keepalived
//   forks its notify scripts on each), and one poll that times out just then
//   must not end the hold (such an early failback is the likeliest cause
//   found of a 3 s client outage on CI's booted nodes, not reproduced here).
//   A peer heard since saying it cannot serve (FAULT, HAProxy down) ends it.
import type { AgentConfig } from '../config/index.js'
import { readTrackFile, trackValue, writeTrackFile } from '../keepalived/index.js'
import type { Logger } from '../log/index.js'
import { decideTrack, type FaultDecision } from './fault.js'
import { FlapDamper } from './flap.js'
import type { DaemonState } from './state.js'

/** How long HAProxy must answer again before the FAULT its death caused clears (while a peer serves). */
export const HAPROXY_RISE_MS = 2000

export interface TrackDeciderOptions {
  logger: Logger
  /** decide again in ms (a hold that ends by time alone); the daemon sets a timer */
  wake?(ms: number): void
  now?: () => number
  /** writes the file (tests swap it) */
  write?: (path: string, fault: boolean) => void
  /** a relative fault is confirming: the check loop and the peer polls should run their next round soon */
  hurry(): void
  /** flap damping started holding the value */
  onFlapDamped(info: { reason: string; held: boolean; wanted: boolean }): void
}

/**
 * The peer's pass must come from a round it began after the failure appeared
 * here: a poll that began after it still carries the peer's last verdict, up to
 * a check interval old. A failure both nodes share (PostgreSQL stopped) shows on
 * one of them first; judged on the other's older pass it would FAULT that node,
 * the VIP would move to a peer that cannot serve either, then move back (a
 * lab-switchover run: the BACKUP went FAULT so, and flap damping then held it
 * there for a minute). The peer's checked_at (its round's start, its clock) says
 * so at once when the clocks agree; whatever they say, a word polled a whole
 * round period (checks.interval_ms + timeout_ms, the pair's shared settings)
 * after the failure appeared carries a newer round.
 */
function peerCheckedSince(config: AgentConfig, state: DaemonState, d: FaultDecision, since: number): boolean {
  if (!d.basis || !config.peers.length) return true
  if (state.peersStartedAt >= since + config.checks.interval_ms + config.checks.timeout_ms) return true
  const peer = state.peers.find((p) => p.url === d.basis!.peer)
  const at = Date.parse(peer?.checks?.find((c) => c.name === d.basis!.check)?.checked_at ?? '')
  return Number.isFinite(at) && at >= since
}

export class TrackDecider {
  private readonly now: () => number
  private readonly write: (path: string, fault: boolean) => void
  private flap: FlapDamper
  private flapKey: string
  private relativeSince: number | undefined
  /** what the file says as far as we know (undefined: not written by this process yet) */
  private written: boolean | undefined
  /** the value written was an operator's (maintenance, a hand-over): leaving it is not damped either */
  private writtenByOperator = false
  /** the value written is a FAULT for HAProxy gone (its recovery is held HAPROXY_RISE_MS) */
  private writtenHaproxyGone = false
  /** the last decision held the FAULT of HAProxy's death (logged once, where it starts) */
  private holding = false
  /** the last peer heard able to serve (reachable, not FAULT, HAProxy up), and when */
  private servingPeer: { url: string; name: string; at: number } | undefined
  /** what the yield file says as far as we know */
  private yieldWritten: boolean | undefined

  constructor(
    config: AgentConfig,
    private readonly opts: TrackDeciderOptions,
  ) {
    this.now = opts.now ?? Date.now
    this.write = opts.write ?? writeTrackFile
    this.flapKey = `${config.cluster.flap_max}/${config.cluster.flap_window_ms}`
    this.flap = new FlapDamper(config.cluster.flap_max, config.cluster.flap_window_ms, this.now)
  }

  /** True once the file holds a decision of ours (or there is no file to write). */
  settled(config: AgentConfig): boolean {
    return (!config.keepalived?.track_file || this.written !== undefined) && (!config.keepalived?.yield_file || this.yieldWritten !== undefined)
  }

  /** Recomputes the decision from what the daemon knows, writes the file when it changes. */
  decide(config: AgentConfig, state: DaemonState): FaultDecision {
    const key = `${config.cluster.flap_max}/${config.cluster.flap_window_ms}`
    if (key !== this.flapKey) {
      this.flapKey = key
      this.flap = new FlapDamper(config.cluster.flap_max, config.cluster.flap_window_ms, this.now)
    }
    let next = decideTrack({
      haproxy: config.checks.haproxy ? state.haproxy : null,
      verdict: state.latest,
      peers: state.peers,
      operator: { maintenance: state.maintenance, ...(state.handover ? { handoverTo: state.handover.to } : {}) },
    })
    if (next.fault && next.relative) {
      const since = (this.relativeSince ??= this.now())
      const waiting = [
        // >=: the round that failed began before `since` (set while it reported); one that began at that very ms is a new one
        state.latestStartedAt >= since ? '' : 'a new check round',
        !config.peers.length ? '' : state.peersStartedAt <= since ? 'a new peer poll' : peerCheckedSince(config, state, next, since) ? '' : "the peer's own next round",
      ].filter(Boolean)
      if (waiting.length) {
        this.opts.hurry()
        next = { ...next, fault: false, confirming: true, reason: `confirming (waiting for ${waiting.join(' and ')}): ${next.reason}` }
      }
    } else this.relativeSince = undefined
    const peer = this.peerServing(config, state)
    let holding = false
    if (!next.fault && !next.pending && !next.operator && this.written === true && this.writtenHaproxyGone && state.haproxy?.up) {
      const upFor = this.now() - state.haproxy.since
      if (upFor < HAPROXY_RISE_MS && peer) {
        holding = true
        this.opts.wake?.(HAPROXY_RISE_MS - upFor)
        next = { ...next, fault: true, reason: `HAProxy answers again, for ${upFor} ms: FAULT held until ${HAPROXY_RISE_MS} ms (${peer} serves meanwhile)` }
        if (!this.holding) this.opts.logger.info({ track_file: config.keepalived?.track_file, reason: next.reason }, 'HAProxy back: its FAULT held while the peer serves')
      }
    }
    this.holding = holding
    // Flap damping holds deep-check (relative health) changes only: a dead
    // HAProxy is never hidden, whatever the history.
    if (!next.pending && this.written !== undefined && next.fault !== this.written && !next.haproxyGone && !next.operator && !this.writtenByOperator) {
      const d = this.flap.shouldHold()
      if (d.hold) {
        if (d.started) this.opts.onFlapDamped({ reason: d.reason, held: this.written, wanted: next.fault })
        next = { ...next, fault: this.written, reason: `flap damping: ${d.reason} (wanted: ${next.reason})` }
      }
    }
    const before = state.fault
    state.fault = next
    const yieldPath = config.keepalived?.yield_file
    if (yieldPath && this.yieldWritten !== state.yielding) this.writeYield(yieldPath, state.yielding)
    const path = config.keepalived?.track_file
    if (path && !next.pending && this.written !== next.fault) this.writeFile(path, next, before)
    return next
  }

  /** The peer that can serve instead of this node, as last heard within two poll periods (its name), if any. */
  private peerServing(config: AgentConfig, state: DaemonState): string | undefined {
    const now = this.now()
    const canServe = (p: DaemonState['peers'][number]) => p.reachable && !p.fault && p.haproxy_up !== false
    const serving = state.peers.find(canServe)
    if (serving) this.servingPeer = { url: serving.url, name: serving.node ?? serving.url, at: now }
    const last = this.servingPeer
    if (!last) return undefined
    const since = state.peers.find((p) => p.url === last.url)
    const window = 2 * (config.cluster.poll_interval_ms + config.cluster.poll_timeout_ms)
    if (!since || (since.reachable && !canServe(since)) || now - last.at > window) return (this.servingPeer = undefined)
    return last.at === now ? last.name : `${last.name}, heard ${now - last.at} ms ago,`
  }

  /**
   * Rewrites the file when it does not say what we decided: another writer
   * (`ha-agent check` while this daemon was stopped or frozen) or an operator.
   */
  reconcile(config: AgentConfig, state: DaemonState): void {
    const yieldPath = config.keepalived?.yield_file
    if (yieldPath && this.yieldWritten !== undefined && readTrackFile(yieldPath) !== trackValue(state.yielding)) {
      this.opts.logger.warn({ yield_file: yieldPath, decided: state.yielding ? 1 : 0 }, 'yield file changed behind our back: rewriting it')
      this.writeYield(yieldPath, state.yielding)
    }
    const path = config.keepalived?.track_file
    if (!path || state.fault.pending || this.written === undefined) return
    const onDisk = readTrackFile(path)
    if (onDisk !== trackValue(state.fault.fault)) {
      this.opts.logger.warn({ track_file: path, found: onDisk ?? 'nothing', decided: state.fault.fault ? 1 : 0 }, 'track_file changed behind our back: rewriting it')
      this.written = undefined
      this.writeFile(path, state.fault, state.fault)
    }
  }

  private writeFile(path: string, next: FaultDecision, before: FaultDecision): void {
    try {
      this.write(path, next.fault)
      this.written = next.fault
      this.writtenByOperator = !!next.operator
      this.writtenHaproxyGone = next.fault && !!next.haproxyGone
      if (next.fault !== before.fault || before.pending) {
        this.opts.logger[next.fault ? 'warn' : 'info']({ track_file: path, fault: next.fault, reason: next.reason }, next.fault ? 'local fault: track_file set to 1' : 'track_file set to 0')
      }
    } catch (err) {
      this.opts.logger.error({ err, track_file: path }, 'cannot write keepalived track_file')
    }
  }

  private writeYield(path: string, yielding: boolean): void {
    try {
      this.write(path, yielding)
      if (this.yieldWritten !== undefined || yielding) this.opts.logger.info({ yield_file: path, yielding }, yielding ? 'yield file set to 1: priority lowered by its weight' : 'yield file set to 0')
      this.yieldWritten = yielding
    } catch (err) {
      this.opts.logger.error({ err, yield_file: path }, 'cannot write keepalived yield file')
    }
  }
}
