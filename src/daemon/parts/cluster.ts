import { startCluster, type PeerView } from '../../cluster/index.js'
import { currentInstances } from '../../keepalived/index.js'
import { fastInterval, type DaemonContext, type Hurry } from '../context.js'
import type { Part } from '../lifecycle.js'
import type { CheckLoop } from './check-loop.js'

/**
 * A check that fails on a peer and did not in the last word from it: the peer
 * confirms a relative fault only on a round of ours that began after its
 * failure (track-decision.ts), so this node runs one at once instead of within
 * the next check interval.
 */
export function peerCheckNewlyFailing(before: readonly PeerView[], after: readonly PeerView[]): boolean {
  return after.some((p) => {
    if (!p.reachable || !p.checks) return false
    const old = before.find((b) => b.url === p.url)
    return p.checks.some((c) => c.status === 'fail' && old?.checks?.find((o) => o.name === c.name)?.status !== 'fail')
  })
}

/** Polls the peers' /status: relative health (fault.ts) and split brain. */
export function clusterPart(ctx: DaemonContext): Part {
  return {
    name: 'cluster',
    key: (c) => (c.peers.length ? [c.node, c.peers, c.cluster.poll_interval_ms, c.cluster.poll_timeout_ms, c.cluster.split_brain_after_ms, c.cluster.push, c.cluster.full_poll_interval_ms] : null),
    async start(config) {
      ctx.state.peers = []
      ctx.state.splitBrain = []
      if (!config.peers.length) return { stop: async () => {} }
      const cluster = startCluster({
        config,
        logger: ctx.logger.child({ component: 'cluster' }),
        localInstances: () => currentInstances(ctx.config().state_dir),
        emit: (e) => void ctx.emit(e),
        token: () => ctx.config().cluster.token,
        ca: () => ctx.config().cluster.ca,
        onPeers: (peers, splitBrain, startedAt) => {
          if (peerCheckNewlyFailing(ctx.state.peers, peers)) ctx.service<CheckLoop>('check loop')?.hurryNow()
          ctx.state.peers = peers
          ctx.state.peersStartedAt = startedAt
          ctx.state.splitBrain = splitBrain
          ctx.decide()
        },
      })
      const service: Hurry = { hurry: () => cluster.hurry(fastInterval(config.cluster.poll_interval_ms)) }
      return {
        service,
        async stop() {
          cluster.stop()
        },
      }
    },
  }
}
