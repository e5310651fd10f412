// Planned operations (switchover.ts, maintenance.ts) as the daemon offers them:
// to the CLI over the control socket, to the peer over the API (POST
// /switchover, POST /yield). One at a time: a second asks while the first runs
// and is refused. The stored state (maintenance, yield) is loaded when the
// daemon starts, before the first track_file decision.
import { checkBearer } from '../cluster/index.js'
import type { ActionAnswer, ApiActions } from '../api/index.js'
import { readMaintenance, readYield } from '../keepalived/index.js'
import type { DaemonContext } from './context.js'
import type { Part } from './lifecycle.js'
import { maintenanceOff, maintenanceOn, maintenanceStatus, type MaintenanceOutcome } from './maintenance.js'
import { clearYield, runSwitchover, type SwitchoverOutcome, type SwitchoverRequest } from './switchover.js'

export interface Operations {
  switchover(req: SwitchoverRequest): Promise<SwitchoverOutcome>
  maintenance(req: { action: 'on' | 'off' | 'status'; reason?: string; force: boolean; timeoutMs: number }): Promise<MaintenanceOutcome>
}

export function createOperations(ctx: DaemonContext): Operations {
  let running: string | undefined
  type Failed = { ok: false; refused: boolean; error: string }
  const one = async <R extends { ok: boolean }>(what: string, fn: () => Promise<R>): Promise<R | Failed> => {
    if (running) return { ok: false, refused: true, error: `${running} is under way on ${ctx.config().node}: one planned operation at a time` }
    running = what
    try {
      return await fn()
    } catch (err) {
      ctx.logger.error({ err, operation: what }, `${what} failed`)
      if (ctx.state.handover) {
        // never leave the FAULT of a hand-over behind
        ctx.state.handover = undefined
        ctx.state.handoverEndedAt = Date.now()
        ctx.decide()
      }
      return { ok: false, refused: false, error: `${what} failed: ${(err as Error).message}` }
    } finally {
      running = undefined
    }
  }
  return {
    switchover: (req) => one('a switchover', () => runSwitchover(ctx, req)),
    maintenance: (req) => {
      if (req.action === 'status') return Promise.resolve(maintenanceStatus(ctx))
      if (req.action === 'on') return one('maintenance on', () => maintenanceOn(ctx, { ...(req.reason !== undefined ? { reason: req.reason } : {}), force: req.force }))
      return one('maintenance off', () => maintenanceOff(ctx, { timeoutMs: req.timeoutMs }))
    },
  }
}

/** What the API's POST routes do: the pair's token only (never api.token_file's readers). */
export function apiActions(ctx: DaemonContext, ops: () => Operations | undefined): ApiActions {
  const answer = (o: { ok: boolean }): ActionAnswer => ({ code: o.ok ? 200 : 409, body: o as Record<string, unknown> })
  return {
    authorize: (header) => {
      const token = ctx.config().cluster.token
      return !!token && checkBearer(header, token)
    },
    async switchover(req) {
      const o = ops()
      if (!o) return { code: 503, body: { ok: false, error: 'the daemon is stopping' } }
      return answer(await o.switchover({ ...req, forwarded: true }))
    },
    async clearYield() {
      return answer(clearYield(ctx))
    },
  }
}

/** Loads what is stored under state_dir; offers the operations as the `operations` service. */
export function operationsPart(ctx: DaemonContext): Part {
  return {
    name: 'operations',
    key: (c) => c.state_dir,
    async start(config) {
      const m = readMaintenance(config.state_dir)
      const y = readYield(config.state_dir)
      ctx.state.maintenance = m
      ctx.state.yielding = y.yielding
      if (m.on) ctx.logger.warn({ since: m.since, reason: m.reason }, 'in maintenance: this node stays out of MASTER until `ha-agent maintenance off`')
      if (y.yielding) ctx.logger.info({ since: y.since, reason: y.reason }, 'yielding since a switchover: priority lowered until this node is the target of one')
      return { service: createOperations(ctx), stop: async () => {} }
    },
  }
}
