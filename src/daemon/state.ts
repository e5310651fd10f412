// What the daemon knows, shared by its parts. Parts write what they observe;
// the track-file decision and /status read it. It outlives reloads.
import type { Verdict } from '../checks/index.js'
import type { PeerView, SplitBrainEpisode } from '../cluster/index.js'
import { MAINTENANCE_OFF, type MaintenanceState } from '../keepalived/index.js'
import type { FaultDecision } from './fault.js'

export interface HaproxyView {
  up: boolean
  detail: string
  /** ms epoch of the last change */
  since: number
}

export interface TransitionNote {
  instance: string
  state: string
  at: string
  source: string
}

const RECENT_TRANSITIONS = 20

export class DaemonState {
  readonly startedAt = new Date().toISOString()
  /** the check loop's last verdict, when it came, and when its round began */
  latest: Verdict | undefined
  latestAt = 0
  latestStartedAt = 0
  /** the HAProxy watch's view; undefined until its first answer */
  haproxy: HaproxyView | undefined
  peers: PeerView[] = []
  /** when the poll round that produced `peers` began */
  peersStartedAt = 0
  splitBrain: SplitBrainEpisode[] = []
  /** the track_file decision in force */
  fault: FaultDecision = { fault: false, reason: 'starting', checkExit: 0, pending: true }
  keepalived: { up: boolean | null; detail: string } = { up: null, detail: 'not watched' }
  /** notify claims refused on the control socket (a sandbox that hides keepalived's notify processes shows here) */
  notifyRefused: { count: number; lastError: string | null; lastAt: string | null } = { count: 0, lastError: null, lastAt: null }
  outbox: { spooled: number; orphaned: Array<{ queue: string; pending: number }>; full: string | null } = { spooled: 0, orphaned: [], full: null }
  reload: { ok: boolean; at: string; error: string | null } | null = null
  /** every part started and the first track_file decision is written */
  ready = false
  /** `ha-agent maintenance on`: out of MASTER until turned off (stored under state_dir) */
  maintenance: MaintenanceState = MAINTENANCE_OFF
  /** the yield of the last switchover away from this node (stored under state_dir): priority -2 */
  yielding = false
  /** a switchover handing the VIP over from here: the track_file holds FAULT until the target is MASTER */
  handover: { to: string; since: number } | undefined
  /** when the last hand-over ended (ms epoch): transitions shortly after it are still the switchover's */
  handoverEndedAt = 0
  readonly recent: TransitionNote[] = []
  private readonly lastState = new Map<string, string>()

  /** Notes a transition once (notify, FIFO and the state-store scan may all report it); true when new. */
  noteTransition(n: TransitionNote): boolean {
    if (this.lastState.get(n.instance) === n.state) return false
    this.lastState.set(n.instance, n.state)
    this.recent.unshift(n)
    this.recent.length = Math.min(this.recent.length, RECENT_TRANSITIONS)
    return true
  }

  /** Remembers an instance's state without counting it as a transition (what was recorded before we started). */
  knowState(instance: string, state: string): void {
    this.lastState.set(instance, state)
  }
}
