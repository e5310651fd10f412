// `ha-agent switchover`: the VIP moved on purpose, with as small a gap as
// keepalived allows. On the VIP holder M, towards T:
// 1. T's /status, polled now, must say it can serve (preconditions.ts), unless --force;
// 2. M stores its yield (state_dir), waits for an idle instant (idle-instant.ts),
//    then writes the yield file (priority -2) and the track_file (FAULT) at once:
//    FAULT drops the VIP with a priority-0 advert and T takes it within its skew
//    time (a priority drop alone would make T wait the master-down interval);
// 3. once T says MASTER, T drops a yield of its own (POST /yield), and M leaves
//    FAULT: it comes back BACKUP, 2 below, and does not preempt the VIP back.
// The yield stays (a reboot included) until this node is the target of a
// switchover. Asked on another node, the request is forwarded to M (POST
// /switchover) and the answer is M's. If T is not MASTER within the timeout,
// M undoes it all: no yield, no FAULT, the VIP where it was.
import type { AgentConfig } from '../config/index.js'
import { NOT_YIELDING, readInstances, writeYield } from '../keepalived/index.js'
import type { DaemonContext } from './context.js'
import { describeInstant, pickHandoverInstant } from './idle-instant.js'
import { nameOf, pollOne, pollPeersNow, postPeer, sleep, type Peer } from './peer-calls.js'
import { canServe, holdsAll, refusal } from './preconditions.js'

export interface SwitchoverRequest {
  to?: string
  force: boolean
  timeoutMs: number
  /** a peer forwarded it: run it here or refuse, never forward again */
  forwarded?: boolean
}

export type SwitchoverOutcome =
  | { ok: true; from: string; to: string; forced: boolean; duration_ms: number | null; wall_ms: number; instant: string; message: string; noop?: true }
  | { ok: false; refused: boolean; error: string }

/** how long the old holder is watched for taking the VIP back (a keepalived.conf without the yield file) */
export const HOLD_CHECK_MS = 700

/** false as soon as `holds` is false within ms, else true */
async function stays(holds: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (!holds()) return false
    await sleep(20)
  }
  return holds()
}

const refuse = (error: string): SwitchoverOutcome => ({ ok: false, refused: true, error })
const states = (instances: ReadonlyArray<{ name: string; state: string }> | undefined) => (instances?.length ? instances.map((i) => `${i.name} ${i.state}`).join(', ') : 'no instance known')

export async function runSwitchover(ctx: DaemonContext, req: SwitchoverRequest): Promise<SwitchoverOutcome> {
  const started = Date.now()
  const config = ctx.config()
  const self = config.node
  if (!config.keepalived?.track_file || !config.keepalived.yield_file) return refuse('switchover needs keepalived.track_file and keepalived.yield_file (and both track files in keepalived.conf)')
  if (!config.peers.length) return refuse('no peers configured: there is nobody to hand the VIP to')
  if (ctx.state.handover) return refuse(`a switchover to ${ctx.state.handover.to} is already under way`)
  const local = readInstances(config.state_dir)
  const peers = await pollPeersNow(config)
  if (holdsAll(local) && ctx.state.keepalived.up !== false && !ctx.state.maintenance.on) {
    if (req.to === self) return { ok: true, noop: true, from: self, to: self, forced: req.force, duration_ms: null, wall_ms: Date.now() - started, instant: 'none', message: `${self} already holds the VIP` }
    const named = req.to ? peers.filter((p) => p.view.node === req.to) : peers
    if (!named.length) return refuse(`no peer named ${req.to} answers (peers: ${peers.map((p) => nameOf(p.view)).join(', ')})`)
    if (named.length > 1) return refuse(`${named.length} peers: say which one with --to NODE (${named.map((p) => nameOf(p.view)).join(', ')})`)
    return handOver(ctx, config, named[0]!, req, started)
  }
  if (req.forwarded) return refuse(`${self} does not hold the VIP (${states(local)})`)
  const master = peers.find((p) => p.view.reachable && holdsAll(p.view.instances))
  if (!master) return refuse(`no node holds the VIP: ${self} ${states(local)}; ${peers.map((p) => `${nameOf(p.view)} ${p.view.reachable ? states(p.view.instances) : `unreachable (${p.view.error})`}`).join('; ')}`)
  const to = req.to ?? self
  if (to === master.view.node) return { ok: true, noop: true, from: to, to, forced: req.force, duration_ms: null, wall_ms: Date.now() - started, instant: 'none', message: `${to} already holds the VIP` }
  // M runs it; it gets the whole timeout, we wait a little longer for its word.
  const a = await postPeer(config, master.url, '/switchover', { to, force: req.force, timeout_ms: req.timeoutMs }, req.timeoutMs + 5000)
  const b = a.body as { ok?: boolean; refused?: boolean; error?: string }
  if (a.status === 200 && b.ok === true) return { ...(a.body as Extract<SwitchoverOutcome, { ok: true }>), wall_ms: Date.now() - started }
  const why = a.status === 404 ? 'its ha-agent has no POST /switchover (an older version: upgrade it, or run the switchover there)' : (b.error ?? `HTTP ${a.status}`)
  return { ok: false, refused: b.refused === true || a.status === 404, error: `${nameOf(master.view)} (the VIP holder): ${why}` }
}

async function handOver(ctx: DaemonContext, config: AgentConfig, target: Peer, req: SwitchoverRequest, started: number): Promise<SwitchoverOutcome> {
  const self = config.node
  const to = nameOf(target.view)
  const deadline = started + req.timeoutMs
  if (!req.force) {
    const v = canServe(target.view)
    if (!v.ok) {
      ctx.metrics.switchovers.inc({ result: 'refused' })
      return refuse(`${refusal(target.view, v)} (--force to hand it over all the same)`)
    }
  }
  const since = new Date().toISOString()
  // Stored first: from the instant below, a restart must keep yielding.
  writeYield(config.state_dir, { yielding: true, since, reason: `switchover to ${to}` })
  const instant = await pickHandoverInstant(config)
  const faultAt = Date.now()
  ctx.state.yielding = true
  ctx.state.handover = { to, since: faultAt }
  ctx.decide() // the yield file, then the track_file: FAULT
  ctx.logger.info({ to, instant: instant.kind, waited_ms: instant.waitedMs, forced: req.force }, `switchover: handing the VIP over to ${to}, ${describeInstant(instant)}`)

  const leave = () => {
    ctx.state.handover = undefined
    ctx.state.handoverEndedAt = Date.now()
    ctx.decide()
  }
  const undo = (error: string): SwitchoverOutcome => {
    writeYield(config.state_dir, NOT_YIELDING)
    ctx.state.yielding = false
    leave()
    ctx.metrics.switchovers.inc({ result: 'failed' })
    ctx.logger.error({ to, error }, `switchover to ${to} undone: ${error}`)
    return { ok: false, refused: false, error: `${error}; undone: ${self} leaves FAULT at its full priority and takes the VIP back` }
  }

  let view = target.view
  let seenAt: number | undefined
  while (Date.now() < deadline) {
    view = await pollOne(config, target.url, Math.max(50, Math.min(500, deadline - Date.now())))
    if (view.reachable && holdsAll(view.instances)) {
      seenAt = Date.now()
      break
    }
    await sleep(10)
  }
  if (seenAt === undefined) return undo(`${to} did not become MASTER within ${req.timeoutMs / 1000} s (last seen: ${view.reachable ? states(view.instances) : `unreachable, ${view.error}`})`)
  // With both nodes yielding, the one with the higher priority would take the VIP back: T drops its own first.
  if (view.yielding !== false) {
    let cleared = false
    let last = ''
    while (!cleared && Date.now() < deadline) {
      const a = await postPeer(config, target.url, '/yield', { yield: false }, Math.max(100, Math.min(2000, deadline - Date.now())))
      cleared = a.status === 200
      last = String(a.body.error ?? `HTTP ${a.status}`)
      if (!cleared) await sleep(50)
    }
    if (!cleared) return undo(`${to} is MASTER but did not drop its own yield (${last})`)
  }
  leave()

  let backup = false
  let mine = readInstances(config.state_dir)
  while (!backup && Date.now() < deadline) {
    mine = readInstances(config.state_dir)
    backup = mine.length > 0 && mine.every((i) => i.state === 'BACKUP')
    if (!backup) await sleep(20)
  }
  // A keepalived.conf without the yield track file would let this node preempt the VIP back once the
  // master-down interval is over (~0.3 s at the shipped advert_int 0.1): watch for it a little while.
  if (backup && (await stays(() => !readInstances(config.state_dir).some((i) => i.state === 'MASTER'), HOLD_CHECK_MS)) === false) {
    const error = `${self} took the VIP back after the hand-over: keepalived does not lower it by keepalived.yield_file (${config.keepalived?.yield_file}); add \`track_file ha_agent_yield\` with \`weight -2\` to keepalived.conf`
    ctx.metrics.switchovers.inc({ result: 'failed' })
    ctx.logger.error({ to }, error)
    return { ok: false, refused: false, error }
  }
  const since_ = (view.instances ?? []).map((i) => Date.parse(i.since)).filter((n) => Number.isFinite(n))
  const mastered = since_.length ? Math.max(...since_) : NaN
  // T's MASTER notify is timed by its fork (keepalived's own instant), on T's clock; else when we saw it.
  const duration = Number.isFinite(mastered) && mastered >= faultAt - 5 && mastered <= seenAt ? Math.max(0, mastered - faultAt) : seenAt - faultAt
  const wall = Date.now() - started
  ctx.metrics.switchovers.inc({ result: 'moved' })
  void ctx.emit({ type: 'vrrp.switchover', data: { node: self, from: self, to, forced: req.force, duration_ms: duration, instant: instant.kind, waited_ms: instant.waitedMs, requested_by: req.forwarded ? 'peer' : 'local' } })
  // The notify's time is its process start: 10 ms ticks (keepalived/fork-order.ts).
  const took = duration < 10 ? 'under 10 ms' : `${duration} ms`
  const message = `VIP moved from ${self} to ${to} in ${took}${req.force ? ' (forced)' : ''}; handed over ${describeInstant(instant)}` +
    (backup ? '' : `; ${self} is not BACKUP yet (${states(readInstances(config.state_dir))})`)
  ctx.logger.info({ from: self, to, duration_ms: duration, wall_ms: wall, instant: instant.kind }, message)
  return { ok: true, from: self, to, forced: req.force, duration_ms: duration, wall_ms: wall, instant: instant.kind, message }
}

/** POST /yield: the VIP holder made this node MASTER by a switchover; the yield of an older one goes. */
export function clearYield(ctx: DaemonContext): { ok: true; was: boolean } {
  const was = ctx.state.yielding
  if (was) {
    writeYield(ctx.config().state_dir, NOT_YIELDING)
    ctx.state.yielding = false
    ctx.logger.info('switchover: this node is its target: yield dropped, full priority again')
    ctx.decide()
  }
  return { ok: true, was }
}
