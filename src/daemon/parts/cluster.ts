import { startCluster } from '../../cluster/index.js'
import { currentInstances } from '../../keepalived/index.js'
import { fastInterval, type DaemonContext, type Hurry } from '../context.js'
import type { Part } from '../lifecycle.js'

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
