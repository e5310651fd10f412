// The outbox under state_dir, and what keeps it bounded: every minute old dead
// letters and stray temp files go and the size is checked against
// outbox.max_bytes; every few seconds spooled events (kept under runtime_dir
// while state_dir was full) are moved in.
import { accessSync, constants, mkdirSync } from 'node:fs'
import { StorageError, describeSystemError } from '../../errors/index.js'
import { applyTransitionState } from '../../keepalived/index.js'
import { drainSpool, measureOutbox, openOutbox, pruneOutbox, spooledCount, updateFullMarker, type Outbox } from '../../outbox/index.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'

const MAINTENANCE_MS = 60_000
const SPOOL_MS = 5_000
/** a state_dir that is full or read-only is a condition to report, not a reason to stop keepalived's view of the node */
const CONDITIONS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO'])

export function outboxPart(ctx: DaemonContext): Part {
  return {
    name: 'outbox',
    key: (c) => [c.state_dir, c.runtime_dir],
    async start(config) {
      try {
        mkdirSync(`${config.state_dir}/queue/.tmp`, { recursive: true, mode: 0o750 })
        accessSync(config.state_dir, constants.W_OK)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? ''
        if (!CONDITIONS.has(code)) throw new StorageError(`state_dir ${config.state_dir}: ${describeSystemError(err)}`)
        ctx.logger.error({ state_dir: config.state_dir, err: describeSystemError(err) }, 'state_dir cannot take events: they go to the spool until it can')
      }
      const service: Outbox = { append: (e) => openOutbox({ stateDir: config.state_dir, webhooks: ctx.config().webhooks }).append(e) }
      let stopped = false

      const maintain = async () => {
        const c = ctx.config()
        const pruned = await pruneOutbox(config.state_dir, { deadMaxAgeMs: c.outbox.dead_letter_max_age })
        if (pruned.dead) ctx.logger.warn({ dead_letters: pruned.dead, older_than_ms: c.outbox.dead_letter_max_age }, 'deleted old dead letters (outbox.dead_letter_max_age)')
        const usage = await measureOutbox(config.state_dir, c.webhooks.map((w) => w.name))
        const full = updateFullMarker(config.state_dir, usage, c.outbox.max_bytes)
        if (full && !ctx.state.outbox.full) ctx.logger.error({ bytes: usage.bytes, max_bytes: c.outbox.max_bytes }, full)
        if (!full && ctx.state.outbox.full) ctx.logger.info({ bytes: usage.bytes }, 'outbox below outbox.max_bytes again: new events are stored')
        for (const o of usage.orphaned) {
          if (!ctx.state.outbox.orphaned.some((p) => p.queue === o.queue)) {
            ctx.logger.warn({ queue: o.queue, pending: o.pending }, 'a queue of a webhook that is no longer configured: nobody delivers it (rename the webhook back, or move its files into the new queue, or delete them)')
          }
        }
        ctx.state.outbox.full = full
        ctx.state.outbox.orphaned = usage.orphaned
      }
      const drain = async () => {
        const waiting = await spooledCount(config.runtime_dir)
        ctx.state.outbox.spooled = waiting
        if (!waiting) return
        const r = await drainSpool(config.runtime_dir, service)
        for (const event of r.moved) {
          const problem = applyTransitionState(config.state_dir, event)
          if (problem) ctx.logger.error({ problem }, 'cannot record VRRP state')
        }
        if (r.moved.length) {
          ctx.service<{ kick(): void }>('dispatcher')?.kick()
          ctx.logger.warn({ moved: r.moved.length, left: r.left }, 'moved spooled events into the outbox')
        }
        if (r.error) ctx.logger.error({ left: r.left, reason: r.error }, 'spooled events still wait (state_dir cannot take them)')
        ctx.state.outbox.spooled = r.left
      }
      const every = (ms: number, fn: () => Promise<void>, what: string) => {
        let running = false
        const t = setInterval(() => {
          if (running || stopped) return
          running = true
          fn()
            .catch((err) => ctx.logger.error({ err }, `outbox ${what} failed`))
            .finally(() => (running = false))
        }, ms)
        t.unref()
        return t
      }
      const timers = [every(MAINTENANCE_MS, maintain, 'maintenance'), every(SPOOL_MS, drain, 'spool drain')]
      void maintain().catch((err) => ctx.logger.error({ err }, 'outbox maintenance failed'))
      void drain().catch((err) => ctx.logger.error({ err }, 'outbox spool drain failed'))
      return {
        service,
        async stop() {
          stopped = true
          for (const t of timers) clearInterval(t)
        },
      }
    },
  }
}
