// The deep checks, every checks.interval_ms: their results feed the track_file
// decision, what `ha-agent check` is told, check.failed / check.recovered events
// (debounced by fall / rise) and the metrics. While a check's result differs
// from what is established for it (fall / rise under way), or a relative fault
// confirms, rounds come every fastInterval() instead, as HAProxy's `fastinter`
// does: detection is quick and the steady state is cheap. A check that newly
// fails on a peer runs a round here at once (hurryNow), so that the peer's
// relative fault confirms on a result of ours that is newer than its failure.
import { createHeldConnections, runChecks, type Verdict } from '../../checks/index.js'
import type { AgentConfig } from '../../config/index.js'
import { fastInterval, type DaemonContext, type Hurry } from '../context.js'
import { CheckDebouncer } from '../debounce.js'
import type { Part } from '../lifecycle.js'
import type { HaproxyAsker } from './haproxy-watch.js'
import { startRoundLoop } from '../../rounds/index.js'

export interface CheckLoop extends Hurry {
  /** the next round at once (after the one under way): a peer's check just failed, it compares with ours */
  hurryNow(): void
  /** runs a round now (or joins the one running) */
  checkNow(): Promise<Verdict>
  /** a VRRP transition was seen: the system check reads the host's addresses (VIPs) again */
  vrrpChanged(): void
  /** the checks of the last round, each with what the debouncer established; undefined before the first round */
  established(): Array<{ name: string; status: 'pass' | 'fail' | undefined; detail: string }> | undefined
}

export function checkLoopPart(ctx: DaemonContext, afterRound: () => void): Part {
  return {
    name: 'check loop',
    // Always the same: it reads the config in force at each round.
    key: () => 'loop',
    async start() {
      let debouncer = new CheckDebouncer(ctx.config().checks.fall, ctx.config().checks.rise)
      let stopped = false
      let running: Promise<Verdict> | undefined
      // The PostgreSQL session and the PgBouncer connections, held from round to round.
      const held = createHeldConnections()
      // ... and the HAProxy check on the watch's connection
      held.haproxy = (command, timeoutMs) => ctx.service<HaproxyAsker>('HAProxy watch')?.ask(command, timeoutMs)

      /** a check whose result is not (yet) what is established for it */
      let changing = false
      const apply = async (config: AgentConfig, v: Verdict, startedAt: number) => {
        ctx.state.latest = v
        ctx.state.latestAt = Date.now()
        ctx.state.latestStartedAt = startedAt
        for (const c of v.checks) {
          ctx.metrics.checkUp.set({ check: c.name }, c.status === 'pass' ? 1 : 0)
          ctx.metrics.checkDuration.set({ check: c.name }, c.latencyMs / 1000)
          for (const type of debouncer.feed(c)) {
            ctx.logger[type === 'check.failed' ? 'warn' : 'info']({ check: c.name, detail: c.detail }, type)
            await ctx.emit({ type, data: { node: config.node, check: c.name, detail: c.detail, latency_ms: c.latencyMs } })
          }
        }
        changing = v.checks.some((c) => debouncer.status(c.name) !== c.status)
        ctx.decide()
        afterRound()
      }
      const checkNow = (): Promise<Verdict> => {
        // Never overlapping: a slow round is shared by whoever asks meanwhile.
        const config = ctx.config()
        const startedAt = Date.now()
        running ??= runChecks(config, { held })
          .then(async (v) => {
            const verdict: Verdict = { ...v, source: 'daemon' }
            // A round finishing after stop (or a reload that removed this loop) decides nothing.
            if (!stopped) await apply(config, verdict, startedAt)
            return verdict
          })
          .finally(() => (running = undefined))
        return running
      }
      const loop = startRoundLoop({
        round: checkNow,
        delay: () => {
          const interval = ctx.config().checks.interval_ms
          return changing || ctx.state.fault.confirming ? fastInterval(interval) : interval
        },
        onError: (err) => ctx.logger.error({ err }, 'check round failed'),
        // A round that ran into its deadline already took longer than the fast
        // delay: the confirming round follows it at once (a failure only this
        // node sees moves the VIP one deadline sooner); a quick failure still
        // gets the fast delay to clear (a PgBouncer restarting).
        fastFromStart: true,
      })
      const service: CheckLoop = {
        checkNow,
        hurry: () => loop.hurry(fastInterval(ctx.config().checks.interval_ms)),
        hurryNow: () => loop.hurry(0),
        vrrpChanged: () => held.addresses.changed(),
        established: () => ctx.state.latest?.checks.map((c) => ({ name: c.name, status: debouncer.status(c.name), detail: c.detail })),
      }
      return {
        service,
        update(next) {
          debouncer = new CheckDebouncer(next.checks.fall, next.checks.rise)
        },
        async stop() {
          stopped = true
          loop.stop()
          await running?.catch(() => undefined)
          held.close()
        },
      }
    },
  }
}
