import type { PeerView } from './peers.js'

export interface SplitBrainEpisode {
  instance: string
  peers: string[]
  since: string
}

export interface SplitBrainEvent {
  type: 'cluster.split_brain' | 'cluster.split_brain_resolved'
  data: { node: string; instance: string; peers: string[]; since: string; dedup_key: string }
}

/**
 * Both this node and a peer MASTER for the same instance, longer than
 * thresholdMs. Reported by one node only: the one whose name sorts first among
 * the MASTERs (both compute the same answer from the same facts); the other shows
 * it in /status and the metric. The dedup_key is the same on both nodes.
 */
export class SplitBrainDetector {
  private readonly candidates = new Map<string, { since: number; peers: string[] }>()
  private readonly active = new Map<string, { since: number; peers: string[]; reported: boolean }>()

  constructor(
    private readonly node: string,
    private readonly thresholdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  update(local: ReadonlyArray<{ name: string; state: string }>, peers: readonly PeerView[]): SplitBrainEvent[] {
    const events: SplitBrainEvent[] = []
    const t = this.now()
    const current = new Map<string, string[]>()
    for (const inst of local) {
      if (inst.state !== 'MASTER') continue
      const masters = peers
        .filter((p) => p.reachable && p.instances?.some((i) => i.name === inst.name && i.state === 'MASTER'))
        .map((p) => p.node ?? p.url)
      if (masters.length) current.set(inst.name, masters.sort())
    }
    for (const [instance, peerNodes] of current) {
      const c = this.candidates.get(instance) ?? { since: t, peers: peerNodes }
      this.candidates.set(instance, { since: c.since, peers: peerNodes })
      if (!this.active.has(instance) && t - c.since >= this.thresholdMs) {
        const reporter = [this.node, ...peerNodes].sort()[0] === this.node
        this.active.set(instance, { since: c.since, peers: peerNodes, reported: reporter })
        if (reporter) events.push({ type: 'cluster.split_brain', data: this.data(instance, peerNodes, c.since) })
      }
    }
    for (const instance of [...this.candidates.keys()]) {
      if (current.has(instance)) continue
      this.candidates.delete(instance)
      const a = this.active.get(instance)
      if (a) {
        this.active.delete(instance)
        if (a.reported) events.push({ type: 'cluster.split_brain_resolved', data: this.data(instance, a.peers, a.since) })
      }
    }
    return events
  }

  episodes(): SplitBrainEpisode[] {
    return [...this.active].map(([instance, a]) => ({ instance, peers: a.peers, since: new Date(a.since).toISOString() }))
  }

  private data(instance: string, peers: string[], since: number) {
    return { node: this.node, instance, peers, since: new Date(since).toISOString(), dedup_key: `split_brain/${instance}/${[this.node, ...peers].sort().join(',')}` }
  }
}
