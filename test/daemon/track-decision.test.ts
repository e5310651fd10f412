// What keepalived's track_file says over time: relative faults confirm first (a
// new check round and a new peer poll, both begun after the fault appeared),
// flap damping holds deep-check changes but never a dead HAProxy, and the file
// is put right when someone else changed it. Injected clock and writer.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { DaemonState } from '../../src/daemon/state.js'
import { TrackDecider } from '../../src/daemon/track-decision.js'
import { silentLogger } from '../../src/log/index.js'
import type { Verdict } from '../../src/checks/index.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-track-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const track = join(dir, 'fault')
const config = buildConfig(
  { checks: { interval_ms: 500, haproxy: { socket: '/x' } }, keepalived: { track_file: track }, peers: ['http://p:9471'], cluster: { poll_interval_ms: 500, flap_max: 2, flap_window_ms: 60_000 } },
  null,
  { env: {} },
)
const failing = (name: string): Verdict => ({ healthy: false, checks: [{ name: name as 'pgbouncer', status: 'fail', latencyMs: 1, detail: 'refused', checkedAt: '' }], checkedAt: '', source: 'daemon' })
const passing: Verdict = { healthy: true, checks: [{ name: 'pgbouncer', status: 'pass', latencyMs: 1, detail: '', checkedAt: '' }], checkedAt: '', source: 'daemon' }
const betterPeer = { url: 'http://p:9471', node: 'p', reachable: true, fault: false, checks: [{ name: 'pgbouncer', status: 'pass' as const, detail: '' }] }

function setup() {
  let now = 1_000_000
  const writes: string[] = []
  let hurries = 0
  const flaps: string[] = []
  const state = new DaemonState()
  const decider = new TrackDecider(config, {
    logger: silentLogger,
    now: () => now,
    write: (path, fault) => {
      writes.push(fault ? '1' : '0')
      writeFileSync(path, fault ? '1\n' : '0\n')
    },
    hurry: () => void hurries++,
    onFlapDamped: (i) => flaps.push(`${i.held}->${i.wanted}`),
  })
  return { state, decider, writes, hurries: () => hurries, flaps, now: () => now, advance: (ms: number) => (now += ms) }
}

t.test('nothing is written until HAProxy has answered once', async (t) => {
  const s = setup()
  t.match(s.decider.decide(config, s.state), { pending: true })
  t.same(s.writes, [])
  t.notOk(s.decider.settled(config))
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.decider.decide(config, s.state)
  t.same(s.writes, ['0'])
  t.ok(s.decider.settled(config))
})

t.test('a relative fault is applied once a new check round and a new peer poll still say so', async (t) => {
  const s = setup()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  // the failing round and the poll began before the fault was first seen
  s.state.latest = failing('pgbouncer')
  s.state.latestStartedAt = s.now() - 900
  s.state.peers = [betterPeer]
  s.state.peersStartedAt = s.now() - 300
  t.match(s.decider.decide(config, s.state), { fault: false, confirming: true, reason: /^confirming \(waiting for a new check round and a new peer poll\)/ })
  t.equal(s.hurries(), 1, 'asks both loops to hurry')
  s.advance(10_000) // time alone confirms nothing
  t.match(s.decider.decide(config, s.state), { fault: false, confirming: true })
  s.advance(1)
  s.state.latestStartedAt = s.now() // a new round, still failing
  t.match(s.decider.decide(config, s.state), { fault: false, confirming: true, reason: /waiting for a new peer poll\)/ })
  s.state.peersStartedAt = s.now() // a new poll: the peer still passes
  t.match(s.decider.decide(config, s.state), { fault: true, relative: true })
  t.notOk(s.state.fault.confirming)
  t.same(s.writes, ['0', '1'])
  // healed: the next relative fault waits for new rounds again
  s.state.latest = passing
  s.decider.decide(config, s.state)
  s.advance(5)
  s.state.latest = failing('pgbouncer')
  t.match(s.decider.decide(config, s.state), { confirming: true, reason: /waiting for a new check round and a new peer poll/ })
})

t.test('a fault from a peer poll alone (our round is older) also waits for a new round', async (t) => {
  const s = setup()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.state.latest = failing('pgbouncer')
  s.state.latestStartedAt = s.now() - 5000 // taken while cut off from the peer
  s.state.peers = [betterPeer]
  s.advance(1)
  s.state.peersStartedAt = s.now() // the link came back: the peer answers again
  s.advance(1)
  t.match(s.decider.decide(config, s.state), { fault: false, confirming: true })
  s.advance(300)
  s.state.latest = passing // the new round passes: nothing to confirm
  s.state.latestStartedAt = s.now()
  t.match(s.decider.decide(config, s.state), { fault: false, reason: 'healthy' })
  t.same(s.writes, ['0'], 'the track_file never said 1')
})

t.test('flap damping holds deep-check changes, never a dead HAProxy', async (t) => {
  const s = setup()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.state.peers = [betterPeer]
  // each verdict is seen, then confirmed by a new round and a new poll saying the same
  const flip = (v: Verdict) => {
    s.state.latest = v
    s.decider.decide(config, s.state)
    s.advance(1000)
    s.state.latestStartedAt = s.state.peersStartedAt = s.now()
    return s.decider.decide(config, s.state)
  }
  flip(passing) // written 0
  flip(failing('pgbouncer')) // change 1 -> 1
  flip(passing) // change 2 -> 0
  const held = flip(failing('pgbouncer')) // third change within the window: held
  t.match(held, { fault: false, reason: /^flap damping: 2 changes within 60 s/ })
  t.same(s.flaps, ['false->true'])
  t.same(s.writes, ['0', '1', '0'])
  s.state.haproxy = { up: false, detail: 'closed', since: 0 }
  t.match(s.decider.decide(config, s.state), { fault: true, haproxyGone: true }, 'HAProxy gone goes through')
  t.same(s.writes, ['0', '1', '0', '1'])
})

t.test('reconcile rewrites a file someone else changed (check, while the daemon was frozen)', async (t) => {
  const s = setup()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.decider.decide(config, s.state)
  writeFileSync(track, '1\n')
  s.decider.reconcile(config, s.state)
  t.equal(readFileSync(track, 'utf8'), '0\n')
  t.same(s.writes, ['0', '0'])
  s.decider.reconcile(config, s.state)
  t.same(s.writes, ['0', '0'], 'nothing to do when it agrees')
})
