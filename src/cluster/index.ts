// Cluster awareness: each agent polls its peers' /status, so that a pair of
// keepalived nodes, each of which sees only itself, can spot split brain and
// tell a local failure from a shared one (see src/daemon/fault.ts for the rule).
import type { AgentConfig } from '../config/index.js'
import type { Logger } from '../log/index.js'
import type { NewEvent } from '../outbox/index.js'
import { pollPeer, type PeerView } from './peers.js'
import { SplitBrainDetector, type SplitBrainEpisode } from './split-brain.js'

export { pollPeer, checkBearer, type PeerView } from './peers.js'
export { SplitBrainDetector, type SplitBrainEpisode, type SplitBrainEvent } from './split-brain.js'

export interface Cluster {
  peers(): PeerView[]
  splitBrain(): SplitBrainEpisode[]
  stop(): void
}

export function startCluster(opts: {
  config: AgentConfig
  logger: Logger
  localInstances(): ReadonlyArray<{ name: string; state: string }>
  emit(event: NewEvent): void
  /** after every poll round: what the peers said and the split-brain episodes in force */
  onPeers(peers: PeerView[], splitBrain: SplitBrainEpisode[]): void
  /** the bearer token sent to peers, read at each poll (a reload may change it) */
  token?: () => string | undefined
}): Cluster {
  const c = opts.config.cluster
  const detector = new SplitBrainDetector(opts.config.node, c.split_brain_after_ms)
  let views: PeerView[] = opts.config.peers.map((url) => ({ url, reachable: false, error: 'not polled yet' }))
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const round = async () => {
    const next = await Promise.all(opts.config.peers.map((url) => pollPeer(url, c.poll_timeout_ms, opts.token?.())))
    if (stopped) return
    for (const v of next) {
      const before = views.find((p) => p.url === v.url)
      if (before && before.reachable !== v.reachable) {
        opts.logger[v.reachable ? 'info' : 'warn']({ peer: v.url, error: v.error }, v.reachable ? 'peer answers' : 'peer unreachable')
      }
    }
    views = next
    for (const e of detector.update(opts.localInstances(), views)) {
      opts.logger[e.type === 'cluster.split_brain' ? 'error' : 'info'](e.data, e.type)
      opts.emit({ type: e.type, data: e.data })
    }
    opts.onPeers(views, detector.episodes())
  }
  const loop = () => {
    if (stopped) return
    void round()
      .catch((err) => opts.logger.error({ err }, 'peer poll failed'))
      .finally(() => {
        if (stopped) return
        timer = setTimeout(loop, c.poll_interval_ms)
        timer.unref()
      })
  }
  loop()

  return {
    peers: () => views,
    splitBrain: () => detector.episodes(),
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
