// keepalived forks one `ha-agent notify` per transition, often two within
// milliseconds (BACKUP then MASTER at start-up, MASTER then BACKUP when the
// peer's advert arrives just late). Each chooses its id from its fork order
// (fork-order.ts), but Node.js starts them in no particular order: the later
// fork may reach the daemon first. Recorded and delivered as they arrive, a
// receiver would be told MASTER last while the node is BACKUP.
//
// The kernel knows which notify processes are still running and when each was
// forked. NotifyOrder answers "is a notify forked before this one still on its
// way?", so the daemon records a transition only after the earlier ones (its
// previous_state is then right) and a webhook lane holds a transition back while
// an earlier one may still be queued behind it (the receiver sees fork order).
import { readdirSync, readFileSync } from 'node:fs'
import { eventIdMicros } from '../outbox/ids.js'
import { forkOrderMicros, procStatFields } from './fork-order.js'

/** A process keepalived runs as `ha-agent notify ...` (the launcher, or Node.js running the bundle). */
export function isHaAgentNotify(argv: readonly string[]): boolean {
  const at = argv.indexOf('notify')
  return at > 0 && argv.slice(0, at).some((a) => /(^|\/)ha-agent(\.m?js)?$/.test(a))
}

/** Is `pid` an `ha-agent notify` process, as far as its command line in /proc shows? */
export function isNotifyProcess(pid: number): boolean {
  try {
    return isHaAgentNotify(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'))
  } catch {
    return false
  }
}

/** The visible `ha-agent notify` processes (this user's, in a ProtectProc=invisible sandbox), with their fork order. */
export function runningNotifies(cacheDir?: string): Array<{ pid: number; orderMicros: number }> {
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return []
  }
  const found: Array<{ pid: number; orderMicros: number }> = []
  for (const name of names) {
    const pid = Number(name)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    if (isNotifyProcess(pid)) found.push({ pid, orderMicros: forkOrderMicros(pid, cacheDir) })
  }
  return found
}

/** `pid` and the processes it descends from (as far as /proc shows them). */
function ancestors(pid: number): Set<number> {
  const found = new Set<number>()
  for (let p = pid; p > 1 && !found.has(p); ) {
    found.add(p)
    try {
      p = Number(procStatFields(p)[1])
    } catch {
      break
    }
  }
  return found
}

/** How long a notify that has recorded its transition may linger before it exits (its pid is then forgotten). */
const RECORDED_MEMORY_MS = 60_000

export interface NotifyOrderOptions {
  /** runtime_dir: where fork-order.ts keeps the boot time every process agrees on */
  cacheDir?: () => string | undefined
  /** the scan (tests) */
  scan?: (cacheDir?: string) => Array<{ pid: number; orderMicros: number }>
  now?: () => number
}

export class NotifyOrder {
  /** pid -> [fork order, when] of notifies whose transition is recorded (they still run until the daemon's answer reaches them) */
  private readonly recorded = new Map<number, [number, number]>()
  private readonly scan: NonNullable<NotifyOrderOptions['scan']>
  private readonly now: () => number

  constructor(private readonly opts: NotifyOrderOptions = {}) {
    this.scan = opts.scan ?? runningNotifies
    this.now = opts.now ?? Date.now
  }

  /** The notify process `pid`, forked at `orderMicros`, has its transition recorded. */
  markRecorded(pid: number, orderMicros: number): void {
    const now = this.now()
    for (const [p, [, at]] of this.recorded) if (now - at > RECORDED_MEMORY_MS) this.recorded.delete(p)
    this.recorded.set(pid, [orderMicros, now])
  }

  /**
   * The pids of notify processes forked before `orderMicros` whose transitions
   * are not recorded yet; never `self` or its ancestors (a wrapper that runs the
   * notify as its child was forked first, and waits for it).
   */
  earlier(orderMicros: number, self?: number): number[] {
    const mine = self === undefined ? new Set<number>() : ancestors(self)
    return this.scan(this.opts.cacheDir?.())
      .filter((p) => p.orderMicros < orderMicros && !mine.has(p.pid) && this.recorded.get(p.pid)?.[0] !== p.orderMicros)
      .map((p) => p.pid)
  }

  /**
   * Waits, up to `budgetMs`, until no notify forked before `orderMicros` is on
   * its way. Returns the pids still on their way when the budget ran out. A scan
   * of /proc costs 1-5 ms of CPU (100-400 processes): one every `everyMs`.
   */
  async settle(orderMicros: number, self: number, budgetMs: number, everyMs = 15): Promise<number[]> {
    const until = this.now() + budgetMs
    for (;;) {
      const pending = this.earlier(orderMicros, self)
      if (!pending.length || this.now() >= until) return pending
      await new Promise((r) => setTimeout(r, everyMs))
    }
  }
}

/** A transition is held back at most this long after its fork: a notify slower than that is stuck, not starting. */
export const NOTIFY_HOLD_MAX_MS = 5000
const HOLD_STEP_MS = 20

/**
 * How long a webhook lane waits before delivering `event`: a moment while a
 * notify forked before it is still on its way (its transition will be queued
 * ahead of this one), 0 otherwise and for every other kind of event.
 */
export function notifyHoldMs(order: NotifyOrder, event: { id: string; type: string; data: Record<string, unknown> }, nowMs: number): number {
  if (event.type !== 'vrrp.transition' || event.data.source !== 'notify') return 0
  const forkedMicros = eventIdMicros(event.id)
  if (nowMs - forkedMicros / 1000 > NOTIFY_HOLD_MAX_MS) return 0
  return order.earlier(forkedMicros).length ? HOLD_STEP_MS : 0
}
