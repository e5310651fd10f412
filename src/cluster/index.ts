// Cluster awareness: each agent polls its peers' /status, so that a pair of
// keepalived nodes, each of which sees only itself, can spot split brain and
// tell a local failure from a shared one (see src/daemon/fault.ts for the rule).
import { isLoopbackHost, redactUrl, type AgentConfig } from '../config/index.js'
import type { Logger } from '../log/index.js'
import type { NewEvent } from '../outbox/index.js'
import { pollPeer, type PeerView } from './peers.js'
import { keepAliveAgent } from '../http/index.js'
import { SplitBrainDetector, type SplitBrainEpisode } from './split-brain.js'
import { startRoundLoop } from '../rounds/index.js'

export { pollPeer, checkBearer, type PeerView, type PollOptions } from './peers.js'
export { SplitBrainDetector, type SplitBrainEpisode, type SplitBrainEvent } from './split-brain.js'

export interface Cluster {
  peers(): PeerView[]
  splitBrain(): SplitBrainEpisode[]
  /** polls again within `fastMs` (a relative fault is confirming), then on the usual interval */
  hurry(fastMs: number): void
  stop(): void
}

export function startCluster(opts: {
  config: AgentConfig
  logger: Logger
  localInstances(): ReadonlyArray<{ name: string; state: string }>
  emit(event: NewEvent): void
  /** after every poll round: what the peers said, the split-brain episodes in force, and when the round began */
  onPeers(peers: PeerView[], splitBrain: SplitBrainEpisode[], startedAt: number): void
  /** the bearer token sent to peers, read at each poll (a reload may change it) */
  token?: () => string | undefined
  /** the CA for https:// peers (cluster.ca_file), read at each poll */
  ca?: () => string | undefined
}): Cluster {
  const c = opts.config.cluster
  const detector = new SplitBrainDetector(opts.config.node, c.split_brain_after_ms)
  let views: PeerView[] = opts.config.peers.map((url) => ({ url: redactUrl(url), reachable: false, error: 'not polled yet' }))
  let stopped = false
  // One kept connection per peer: a poll every poll_interval_ms pays no TCP
  // handshake and no new socket on either end (measured in bench/RESULTS.md).
  const agents = new Map(opts.config.peers.map((url) => [url, keepAliveAgent(url)]))

  // The operator chose http:// for a peer: say once that the token crosses the network in clear text.
  if (opts.token?.()) {
    for (const url of opts.config.peers) {
      const u = new URL(url)
      if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
        opts.logger.warn({ peer: redactUrl(url) }, 'the cluster token goes to this peer in clear text over http://: use https:// and cluster.ca_file')
      }
    }
  }

  const round = async () => {
    const startedAt = Date.now()
    const token = opts.token?.()
    const ca = opts.ca?.() ?? c.ca
    const next = await Promise.all(opts.config.peers.map((url) => pollPeer(url, { timeoutMs: c.poll_timeout_ms, token, ca, agent: agents.get(url) })))
    if (stopped) return
    for (const [i, v] of next.entries()) {
      // the same list in the same order: views[i] is this peer's last round
      const before = views[i]
      if (before && before.reachable !== v.reachable) {
        opts.logger[v.reachable ? 'info' : 'warn']({ peer: v.url, error: v.error }, v.reachable ? 'peer answers' : 'peer unreachable')
      }
    }
    views = next
    for (const e of detector.update(opts.localInstances(), views)) {
      opts.logger[e.type === 'cluster.split_brain' ? 'error' : 'info'](e.data, e.type)
      opts.emit({ type: e.type, data: e.data })
    }
    opts.onPeers(views, detector.episodes(), startedAt)
  }
  const loop = startRoundLoop({ round, delay: () => c.poll_interval_ms, onError: (err) => opts.logger.error({ err }, 'peer poll failed') })

  return {
    peers: () => views,
    splitBrain: () => detector.episodes(),
    hurry: (fastMs) => loop.hurry(fastMs),
    stop() {
      stopped = true
      loop.stop()
      for (const a of agents.values()) a.destroy()
    },
  }
}
