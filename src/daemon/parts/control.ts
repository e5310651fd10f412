// The control socket: `ha-agent check`, `notify`, `status` and `webhook test`
// talk to the daemon here. Requests are parsed by control/requests.ts; this
// decides what the daemon does with them.
import { resolve } from 'node:path'
import { controlSocketPath, startControlServer, type ControlRequest, type ControlResponse } from '../../control/index.js'
import { checkForkOrder, isNotifyProcess, recordVrrpTransition } from '../../keepalived/index.js'
import { eventIdMicros, type Outbox } from '../../outbox/index.js'
import type { Dispatcher } from '../../webhooks/index.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'
import { freshFor, knownVerdict } from '../verdict.js'
import { noteTransition } from './keepalived.js'
import { plannedNow } from '../planned.js'
import type { Operations } from '../operations.js'

/** How long a notify waits for the ones forked before it (its client gives the daemon 1000 ms in all). */
const NOTIFY_SETTLE_MS = 600

export async function handleControl(ctx: DaemonContext, req: ControlRequest): Promise<ControlResponse> {
  const config = ctx.config()
  // `check` and `notify` started with another config file must not take this daemon's word for it.
  const other = (path: string) => !!config.configPath && resolve(path) !== resolve(config.configPath)
  const refuseOther = (path: string): ControlResponse => ({ ok: false, error: `this daemon runs ${config.configPath}, not ${path}` })
  switch (req.op) {
    case 'ping':
      return { ok: true, pong: true, ready: ctx.state.ready, pid: process.pid }
    case 'status':
      return { ok: true, status: ctx.snapshot() }
    case 'check': {
      if (other(req.configPath)) return refuseOther(req.configPath)
      // From what the daemon knows, never a probe: `check` gives the daemon a
      // few hundred ms and probes by itself when its word is old or missing.
      const verdict = knownVerdict(config, ctx.state, req.only)
      return verdict ? { ok: true, verdict } : { ok: false, error: `no verdict younger than ${freshFor(config)} ms (the check loop is behind)` }
    }
    case 'notify': {
      if (other(req.configPath)) return refuseOther(req.configPath)
      // The notify process waits for this answer, so its /proc entry is still there to check its claim.
      const refuse = (error: string): ControlResponse => {
        // The notify process records it itself, under the same id.
        ctx.logger.warn({ pid: req.pid, id: req.id, instance: req.transition.instance, error }, 'notify refused')
        ctx.state.notifyRefused = { count: ctx.state.notifyRefused.count + 1, lastError: error, lastAt: new Date().toISOString() }
        return { ok: false, error }
      }
      if (!isNotifyProcess(req.pid)) return refuse(`process ${req.pid} is not an ha-agent notify (or not visible here)`)
      const order = eventIdMicros(req.id)
      const claim = checkForkOrder(req.pid, order, config.runtime_dir)
      if (!claim.ok) return refuse(`id ${req.id} refused: ${claim.reason}`)
      // A notify keepalived forked earlier may still be starting: record after it,
      // so previous_state and the queue follow keepalived's order. The budget
      // leaves the waiting notify time to record by itself before it gives up on us.
      const before = await ctx.notifies.settle(order, req.pid, NOTIFY_SETTLE_MS)
      if (before.length) ctx.logger.warn({ id: req.id, instance: req.transition.instance, earlier_notify_pids: before }, `recording a transition while notifies forked before it are still running after ${NOTIFY_SETTLE_MS} ms; webhooks still get them in fork order`)
      const planned = plannedNow(ctx.state)
      const r = await recordVrrpTransition(config, req.transition, req.id, 'notify', planned ? { planned } : {})
      ctx.notifies.markRecorded(req.pid, order)
      if (r.problem) ctx.logger.error({ id: r.event.id, instance: req.transition.instance, problem: r.problem }, r.stored === 'spool' ? 'VRRP transition spooled: state_dir cannot take it' : 'VRRP transition recorded with a problem')
      ctx.service<Dispatcher>('dispatcher')?.kick()
      noteTransition(ctx, req.transition.instance, req.transition.state, r.event.timestamp, 'notify')
      return { ok: true, recorded: r.event.id, stored: r.stored, ...(r.problem ? { problem: r.problem } : {}) }
    }
    case 'webhook-test': {
      const targets = config.webhooks.filter((w) => !req.name || w.name === req.name)
      if (!targets.length) return { ok: false, error: req.name ? `no webhook named "${req.name}"` : 'no webhooks configured' }
      const outbox = ctx.service<Outbox>('outbox')
      const dispatcher = ctx.service<Dispatcher>('dispatcher')
      if (!outbox || !dispatcher) return { ok: false, error: 'the daemon is stopping' }
      const ev = await outbox.append({ type: 'agent.test', data: { node: config.node, state: 'test' }, only: targets.map((w) => w.name) })
      dispatcher.kick()
      return { ok: true, deliveries: await dispatcher.waitFor(ev.id, req.timeoutMs) }
    }
    case 'switchover': {
      const ops = ctx.service<Operations>('operations')
      if (!ops) return { ok: false, error: 'the daemon is stopping' }
      const o = await ops.switchover({ ...(req.to ? { to: req.to } : {}), force: req.force, timeoutMs: req.timeoutMs })
      return { ...o, operation: 'switchover' }
    }
    case 'maintenance': {
      const ops = ctx.service<Operations>('operations')
      if (!ops) return { ok: false, error: 'the daemon is stopping' }
      const o = await ops.maintenance({ action: req.action, ...(req.reason !== undefined ? { reason: req.reason } : {}), force: req.force, timeoutMs: req.timeoutMs })
      return { ...o, operation: 'maintenance' }
    }
  }
}

export function controlPart(ctx: DaemonContext): Part {
  return {
    name: 'control socket',
    key: (c) => c.runtime_dir,
    async start(config) {
      const server = await startControlServer({ path: controlSocketPath(config.runtime_dir), handle: (req) => handleControl(ctx, req) })
      return { stop: () => server.close() }
    },
  }
}
