// Cluster awareness: each agent polls its peers' /status, so that a pair of
// keepalived nodes, each of which sees only itself, can spot split brain and
// tell a local failure from a shared one (see src/daemon/fault.ts for the rule).
import type { AgentConfig } from '../config/index.js'
import type { Logger } from '../log/index.js'
import type { NewEvent } from '../outbox/index.js'
import { checkBearer, pollPeer, type PeerView } from './peers.js'
import { keepAliveAgent } from '../http/index.js'
import { SplitBrainDetector, type SplitBrainEpisode } from './split-brain.js'

export { pollPeer, checkBearer, type PeerView } from './peers.js'
export { SplitBrainDetector, type SplitBrainEpisode, type SplitBrainEvent } from './split-brain.js'
export { FlapDamper } from './flap.js'

export const CLUSTER_DEFAULTS = { poll_interval_ms: 1000, poll_timeout_ms: 500, split_brain_after_ms: 3000, flap_max: 4, flap_window_ms: 60_000 }

export interface Cluster {
  peers(): PeerView[]
  splitBrain(): SplitBrainEpisode[]
  /** for the API: accepts every request when no token is configured */
  authorize(header: string | undefined): boolean
  stop(): void
}

export function startCluster(opts: {
  config: AgentConfig
  logger: Logger
  localInstances(): ReadonlyArray<{ name: string; state: string }>
  emit(event: NewEvent): void
  onPeers(peers: PeerView[]): void
}): Cluster {
  const c = { ...CLUSTER_DEFAULTS, ...opts.config.cluster }
  const token = opts.config.cluster?.token
  const detector = new SplitBrainDetector(opts.config.node, c.split_brain_after_ms)
  let views: PeerView[] = opts.config.peers.map((url) => ({ url, reachable: false, error: 'not polled yet' }))
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  // One kept connection per peer: a poll every poll_interval_ms no longer pays a
  // TCP handshake and a new socket on both ends (measured in bench/RESULTS.md).
  const agents = new Map(opts.config.peers.map((url) => [url, keepAliveAgent(url)]))

  const round = async () => {
    const next = await Promise.all(opts.config.peers.map((url) => pollPeer(url, c.poll_timeout_ms, token, agents.get(url))))
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
    opts.onPeers(views)
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
    authorize: (header) => !token || checkBearer(header, token),
    stop() {
      stopped = true
      clearTimeout(timer)
      for (const a of agents.values()) a.destroy()
    },
  }
}
