// When a peer's word makes this node run its checks at once: a check that
// fails on a reachable peer and did not in the last word from it.
import t from 'tap'
import type { PeerView } from '../../../src/cluster/index.js'
import { peerCheckNewlyFailing } from '../../../src/daemon/parts/cluster.js'

const peer = (checks: Array<[string, 'pass' | 'fail']> | undefined, reachable = true, url = 'https://10.0.0.2:9471/…'): PeerView => ({
  url,
  reachable,
  ...(checks ? { checks: checks.map(([name, status]) => ({ name, status, detail: status })) } : {}),
})

t.test('a check that newly fails on a peer: run ours now', async (t) => {
  t.ok(peerCheckNewlyFailing([peer([['postgres', 'pass']])], [peer([['postgres', 'fail']])]), 'pass -> fail')
  t.ok(peerCheckNewlyFailing([peer([['postgres', 'pass']])], [peer([['postgres', 'pass'], ['pgbouncer', 'fail']])]), 'a check the peer did not report before, failing')
  t.ok(peerCheckNewlyFailing([], [peer([['postgres', 'fail']])]), 'the first word from a peer, failing')
  t.ok(peerCheckNewlyFailing([peer(undefined, false)], [peer([['postgres', 'fail']])]), 'a peer that comes back failing')
  t.ok(
    peerCheckNewlyFailing([peer([['postgres', 'fail']], true, 'a'), peer([['postgres', 'pass']], true, 'b')], [peer([['postgres', 'fail']], true, 'a'), peer([['postgres', 'fail']], true, 'b')]),
    'peers are told apart by url: the second one newly fails',
  )
})

t.test('nothing new: no extra round', async (t) => {
  t.notOk(peerCheckNewlyFailing([peer([['postgres', 'fail']])], [peer([['postgres', 'fail']])]), 'still failing')
  t.notOk(peerCheckNewlyFailing([peer([['postgres', 'fail']])], [peer([['postgres', 'pass']])]), 'recovered')
  t.notOk(peerCheckNewlyFailing([peer([['postgres', 'pass']])], [peer([['postgres', 'pass']])]), 'still passing')
  t.notOk(peerCheckNewlyFailing([peer([['postgres', 'pass']])], [peer(undefined, false)]), 'the peer went unreachable')
  t.notOk(peerCheckNewlyFailing([peer([['postgres', 'pass']])], [{ ...peer([['postgres', 'fail']]), reachable: false }]), 'an unreachable view says nothing of its checks')
})
