// Cluster awareness: each agent hears its peers' /status (pushed on a held
// stream, polled when it cannot be: peer-link.ts), so that a pair of keepalived
// nodes, each of which sees only itself, can spot split brain and tell a local
// failure from a shared one (see src/daemon/fault.ts for the rule).
import { isLoopbackHost, redactUrl, type AgentConfig } from '../config/index.js'
import type { Logger } from '../log/index.js'
import type { NewEvent } from '../outbox/index.js'
import { PeerLink } from './peer-link.js'
import type { PeerView } from './peers.js'
import { SplitBrainDetector, type SplitBrainEpisode } from './split-brain.js'

export { pollPeer, checkBearer, viewFromStatus, type PeerView, type PollOptions } from './peers.js'
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
  /**
   * after a poll, and whenever a peer's word changed what is known of it: what
   * the peers said, the split-brain episodes in force, and when the oldest of
   * the peers' last polls began (a word that began after a fault appeared)
   */
  onPeers(peers: PeerView[], splitBrain: SplitBrainEpisode[], startedAt: number): void
  /** the bearer token sent to peers, read at each request (a reload may change it) */
  token?: () => string | undefined
  /** the CA for https:// peers (cluster.ca_file), read at each request */
  ca?: () => string | undefined
}): Cluster {
  const c = opts.config.cluster
  const detector = new SplitBrainDetector(opts.config.node, c.split_brain_after_ms)
  let stopped = false

  // The operator chose http:// for a peer: say once that the token crosses the network in clear text.
  if (opts.token?.()) {
    for (const url of opts.config.peers) {
      const u = new URL(url)
      if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
        opts.logger.warn({ peer: redactUrl(url) }, 'the cluster token goes to this peer in clear text over http://: use https:// and cluster.ca_file')
      }
    }
  }

  let views: PeerView[] = []
  const reachable = new Map<PeerLink, boolean>()
  const changed = (link: PeerLink, how: 'poll' | 'push' | 'beat') => {
    if (stopped) return
    const v = link.view
    const before = reachable.get(link)
    // The first contact is said too (info); a first word that fails is not (both nodes booting together miss each other once).
    if (before === undefined ? v.reachable : before !== v.reachable) {
      opts.logger[v.reachable ? 'info' : 'warn']({ peer: v.url, error: v.error }, v.reachable ? 'peer answers' : 'peer unreachable')
    }
    reachable.set(link, v.reachable)
    // (a heartbeat moved last_seen in the view it already had)
    if (how !== 'beat') views = links.map((l) => l.view)
    const events = detector.update(opts.localInstances(), views)
    for (const e of events) {
      opts.logger[e.type === 'cluster.split_brain' ? 'error' : 'info'](e.data, e.type)
      opts.emit({ type: e.type, data: e.data })
    }
    // A heartbeat that changes nothing (the view's last_seen moved in place) decides nothing.
    if (how === 'beat' && !events.length) return
    opts.onPeers(views, detector.episodes(), Math.min(...links.map((l) => l.polledFrom)))
  }
  const links: PeerLink[] = []
  for (const url of opts.config.peers) {
    const link: PeerLink = new PeerLink({
      url,
      settings: c,
      logger: opts.logger,
      token: () => opts.token?.(),
      ca: () => opts.ca?.() ?? c.ca,
      changed: (how) => changed(link, how),
    })
    links.push(link)
  }
  views = links.map((l) => l.view)

  return {
    peers: () => views,
    splitBrain: () => detector.episodes(),
    hurry: (fastMs) => {
      for (const l of links) l.hurry(fastMs)
    },
    stop() {
      stopped = true
      for (const l of links) l.stop()
    },
  }
}
