import t from 'tap'
import { SplitBrainDetector } from '../../src/cluster/index.js'

const peer = (state: string) => [{ url: 'http://b:9471', node: 'b', reachable: true, instances: [{ name: 'VI_1', state, priority: 1, since: '' }] }]

t.test('both MASTER longer than the threshold: reported once, by the node that sorts first; resolved once', async (t) => {
  let now = 0
  const a = new SplitBrainDetector('a', 3000, () => now)
  const b = new SplitBrainDetector('b', 3000, () => now)
  const local = [{ name: 'VI_1', state: 'MASTER' }]
  const aPeers = peer('MASTER')
  const bPeers = [{ url: 'http://a:9471', node: 'a', reachable: true, instances: [{ name: 'VI_1', state: 'MASTER', priority: 1, since: '' }] }]
  t.same([a.update(local, aPeers), b.update(local, bPeers)], [[], []], 'not yet')
  now = 2999
  t.same(a.update(local, aPeers), [], 'still under the threshold')
  now = 3000
  const ea = a.update(local, aPeers)
  const eb = b.update(local, bPeers)
  t.match(ea, [{ type: 'cluster.split_brain', data: { node: 'a', instance: 'VI_1', peers: ['b'], dedup_key: 'split_brain/VI_1/a,b' } }])
  t.same(eb, [], 'b does not report: a sorts first')
  t.match(b.episodes(), [{ instance: 'VI_1', peers: ['a'] }], 'b shows it all the same')
  now = 4000
  t.same(a.update(local, aPeers), [], 'reported once')
  now = 5000
  t.match(a.update(local, peer('BACKUP')), [{ type: 'cluster.split_brain_resolved', data: { dedup_key: 'split_brain/VI_1/a,b' } }])
  t.same(b.update(local, [{ ...bPeers[0]!, instances: [{ name: 'VI_1', state: 'BACKUP', priority: 1, since: '' }] }]), [], 'b does not resolve what it did not report')
  t.same(a.episodes(), [])
})

t.test('an unreachable peer is no evidence of split brain', async (t) => {
  let now = 0
  const a = new SplitBrainDetector('a', 1000, () => now)
  const unreachable = [{ url: 'http://b:9471', node: 'b', reachable: false, instances: [{ name: 'VI_1', state: 'MASTER', priority: 1, since: '' }] }]
  a.update([{ name: 'VI_1', state: 'MASTER' }], unreachable)
  now = 5000
  t.same(a.update([{ name: 'VI_1', state: 'MASTER' }], unreachable), [])
})
