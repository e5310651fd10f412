// `ha-agent maintenance on|off|status`: this node out of MASTER until turned
// off, across daemon restarts, upgrades and reboots (state_dir/maintenance.json;
// `ha-agent check` honours it while no daemon runs). While on, the track_file
// says 1: keepalived holds the node in FAULT, also if the peer dies, which is
// what maintenance means. `on` refuses unless a peer can serve (--force).
//
// On the VIP holder, `on` moves the VIP at an idle instant (idle-instant.ts), as
// a switchover does. `off` on a node that held the VIP when it went into
// maintenance gives it back the same way: the node comes back yielding (BACKUP,
// below the peer, no preemption at a random instant; a holder that yields
// drops its yield first), then asks the VIP holder for a switchover to itself.
// Otherwise it simply leaves FAULT.
import { MAINTENANCE_OFF, readInstances, writeMaintenance, writeYield, NOT_YIELDING, type MaintenanceState } from '../keepalived/index.js'
import type { DaemonContext } from './context.js'
import { describeInstant, pickHandoverInstant } from './idle-instant.js'
import { nameOf, pollPeersNow, postPeer, sleep } from './peer-calls.js'
import { canServe, holdsAll, refusal } from './preconditions.js'

export type MaintenanceOutcome =
  | { ok: true; maintenance: { on: boolean; since: string | null; reason: string | null }; yielding: boolean; message: string }
  | { ok: false; refused: boolean; error: string }

const LEAVE_MASTER_MS = 5000

const shown = (m: MaintenanceState) => ({ on: m.on, since: m.since, reason: m.reason })

function done(ctx: DaemonContext, message: string): MaintenanceOutcome {
  return { ok: true, maintenance: shown(ctx.state.maintenance), yielding: ctx.state.yielding, message }
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() >= end) return false
    await sleep(20)
  }
  return true
}

export async function maintenanceOn(ctx: DaemonContext, req: { reason?: string; force: boolean }): Promise<MaintenanceOutcome> {
  const config = ctx.config()
  const self = config.node
  if (!config.keepalived?.track_file) return { ok: false, refused: true, error: 'maintenance needs keepalived.track_file (the FAULT that keeps this node out of MASTER)' }
  if (ctx.state.maintenance.on) return done(ctx, `${self} is already in maintenance since ${ctx.state.maintenance.since}`)
  if (ctx.state.handover) return { ok: false, refused: true, error: `a switchover to ${ctx.state.handover.to} is under way` }
  if (!req.force) {
    const peers = await pollPeersNow(config)
    if (!peers.length) return { ok: false, refused: true, error: 'no peer is configured to serve meanwhile (--force to go ahead)' }
    if (!peers.some((p) => canServe(p.view).ok)) {
      return { ok: false, refused: true, error: `${peers.map((p) => refusal(p.view, canServe(p.view), 'serve meanwhile')).join('; ')} (--force to go ahead)` }
    }
  }
  const wasMaster = holdsAll(readInstances(config.state_dir))
  const m: MaintenanceState = { on: true, since: new Date().toISOString(), reason: req.reason ?? null, ...(wasMaster ? { was_master: true } : {}) }
  // Stored first: from the instant below, a restart or a reboot must find it.
  writeMaintenance(config.state_dir, m)
  const instant = wasMaster ? await pickHandoverInstant(config) : undefined
  const at = Date.now()
  ctx.state.maintenance = m
  ctx.decide()
  ctx.logger.warn({ reason: m.reason, was_master: wasMaster, ...(instant ? { instant: instant.kind } : {}) }, 'maintenance on: this node stays out of MASTER until `ha-agent maintenance off`')
  void ctx.emit({ type: 'agent.maintenance', data: { node: self, on: true, reason: m.reason, since: m.since, was_master: wasMaster } })
  if (!wasMaster) return done(ctx, `${self} is in maintenance: it stays out of MASTER until \`ha-agent maintenance off\``)
  const left = await until(() => !readInstances(config.state_dir).some((i) => i.state === 'MASTER'), LEAVE_MASTER_MS)
  return done(ctx, left
    ? `${self} is in maintenance and out of MASTER (keepalived's notify recorded ${Date.now() - at} ms after the FAULT); handed over ${describeInstant(instant!)}`
    : `${self} is in maintenance, but keepalived has not reported it out of MASTER after ${LEAVE_MASTER_MS / 1000} s`)
}

export async function maintenanceOff(ctx: DaemonContext, req: { timeoutMs: number }): Promise<MaintenanceOutcome> {
  const config = ctx.config()
  const self = config.node
  const m = ctx.state.maintenance
  if (!m.on) return done(ctx, `${self} is not in maintenance`)
  const peers = config.peers.length ? await pollPeersNow(config) : []
  const holder = peers.find((p) => p.view.reachable && holdsAll(p.view.instances))
  // Back as BACKUP, 2 below, and a switchover at an idle instant, rather than a preemption at a random one.
  let handBack = !!(m.was_master && holder && !ctx.state.yielding && config.keepalived?.yield_file)
  if (handBack && holder!.view.yielding !== false) {
    // Both yielding, this node would still be above the holder: the holder drops its yield first (it holds
    // the VIP and this node is in FAULT: nothing moves).
    const a = await postPeer(config, holder!.url, '/yield', { yield: false }, 2000)
    if (a.status !== 200) {
      handBack = false
      ctx.logger.warn({ holder: nameOf(holder!.view), error: a.body.error ?? `HTTP ${a.status}` }, 'maintenance off: the VIP holder did not drop its yield; keepalived preempts instead')
    }
  }
  if (handBack) {
    writeYield(config.state_dir, { yielding: true, since: new Date().toISOString(), reason: 'back from maintenance: the VIP comes back by a switchover' })
    ctx.state.yielding = true
  }
  writeMaintenance(config.state_dir, MAINTENANCE_OFF)
  ctx.state.maintenance = MAINTENANCE_OFF
  ctx.decide()
  ctx.logger.info({ hand_back: handBack }, 'maintenance off')
  void ctx.emit({ type: 'agent.maintenance', data: { node: self, on: false, reason: m.reason, since: m.since } })
  if (!handBack) return done(ctx, `${self} is out of maintenance`)
  const name = nameOf(holder!.view)
  const backup = await until(() => readInstances(config.state_dir).every((i) => i.state === 'BACKUP'), LEAVE_MASTER_MS)
  const a = backup
    ? await postPeer(config, holder!.url, '/switchover', { to: self, force: false, timeout_ms: req.timeoutMs }, req.timeoutMs + 5000)
    : { status: 0, body: { error: `${self} did not come back as BACKUP within ${LEAVE_MASTER_MS / 1000} s` } }
  if (a.status === 200 && a.body.ok === true) return done(ctx, `${self} is out of maintenance and holds the VIP again: ${String(a.body.message ?? '')}`)
  // Refused (the holder finds this node not ready): the old way, keepalived's preemption.
  writeYield(config.state_dir, NOT_YIELDING)
  ctx.state.yielding = false
  ctx.decide()
  const why = String(a.body.error ?? `HTTP ${a.status}`)
  ctx.logger.warn({ holder: name, error: why }, 'maintenance off: the switchover back was not done; keepalived preempts instead')
  return done(ctx, `${self} is out of maintenance; ${name} did not hand the VIP back (${why}), so keepalived's preemption takes it back`)
}

export function maintenanceStatus(ctx: DaemonContext): MaintenanceOutcome {
  const m = ctx.state.maintenance
  const self = ctx.config().node
  return done(ctx, m.on ? `${self} is in maintenance since ${m.since}${m.reason ? `: ${m.reason}` : ''}` : `${self} is not in maintenance`)
}
