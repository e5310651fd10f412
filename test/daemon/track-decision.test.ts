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
import { HAPROXY_RISE_MS, TrackDecider } from '../../src/daemon/track-decision.js'
import { createLogger, silentLogger } from '../../src/log/index.js'
import type { Verdict } from '../../src/checks/index.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-track-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const track = join(dir, 'fault')
const config = buildConfig(
  { checks: { interval_ms: 500, haproxy: { socket: '/x' } }, keepalived: { track_file: track, yield_file: null }, peers: ['http://p:9471'], cluster: { poll_interval_ms: 500, flap_max: 2, flap_window_ms: 60_000 } },
  null,
  { env: {} },
)
const failing = (name: string): Verdict => ({ healthy: false, checks: [{ name: name as 'pgbouncer', status: 'fail', latencyMs: 1, detail: 'refused', checkedAt: '' }], checkedAt: '', source: 'daemon' })
const passing: Verdict = { healthy: true, checks: [{ name: 'pgbouncer', status: 'pass', latencyMs: 1, detail: '', checkedAt: '' }], checkedAt: '', source: 'daemon' }
const betterPeer = { url: 'http://p:9471', node: 'p', reachable: true, fault: false, checks: [{ name: 'pgbouncer', status: 'pass' as const, detail: '' }] }
/** the peer's word from a round it began at `ms` (its checked_at) */
const passesAt = (ms: number) => ({ ...betterPeer, checks: [{ ...betterPeer.checks[0]!, checked_at: new Date(ms).toISOString() }] })

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
  s.state.peersStartedAt = s.now() // a new poll, 10 s on: whatever its clock says, the peer's pass is from a newer round
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

t.test("a failure both nodes share, seen here first: the peer's pass from its round before is no reason to FAULT", async (t) => {
  const s = setup()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.state.peers = [passesAt(s.now() - 400)] // the peer's last round, before PostgreSQL stopped
  s.state.latest = failing('pgbouncer')
  s.state.latestStartedAt = s.now() - 10
  s.decider.decide(config, s.state)
  s.advance(20)
  // our hurried round and a hurried poll: both new, the peer's verdict is not
  s.state.latestStartedAt = s.state.peersStartedAt = s.now()
  s.state.peers = [passesAt(s.now() - 420)]
  t.match(s.decider.decide(config, s.state), { fault: false, confirming: true, reason: /the peer's own next round/ })
  s.advance(300)
  // the peer's next round: it fails too, a shared failure
  s.state.peers = [{ ...betterPeer, checks: [{ name: 'pgbouncer', status: 'fail' as const, detail: 'down', checked_at: new Date(s.now()).toISOString() }] }]
  s.state.peersStartedAt = s.now()
  t.match(s.decider.decide(config, s.state), { fault: false, shared: ['pgbouncer'] })
  t.same(s.writes, ['0'], 'the track_file never said 1')
})

t.test("a peer whose clock lags (or that sends no checked_at): a word polled a whole round period later confirms", async (t) => {
  const s = setup()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.state.peers = [betterPeer] // no checked_at: an older ha-agent
  s.state.latest = failing('pgbouncer')
  s.decider.decide(config, s.state)
  const since = s.now()
  s.advance(50)
  s.state.latestStartedAt = s.state.peersStartedAt = s.now()
  t.match(s.decider.decide(config, s.state), { confirming: true, reason: /the peer's own next round/ })
  const period = config.checks.interval_ms + config.checks.timeout_ms
  s.advance(period)
  s.state.peersStartedAt = since + period - 1
  t.match(s.decider.decide(config, s.state), { confirming: true }, 'one ms short of a whole round period')
  s.state.peersStartedAt = since + period
  t.match(s.decider.decide(config, s.state), { fault: true, relative: true })
  t.same(s.writes, ['0', '1'])
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
    s.state.peers = [passesAt(s.now())]
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

t.test('HAProxy back after it was gone: the FAULT holds until it has answered for HAPROXY_RISE_MS while a peer serves, then clears', async (t) => {
  const s = setup()
  const wakes: number[] = []
  const logged: string[] = []
  const logger = createLogger({ destination: { write: (l: string) => void logged.push(JSON.parse(l).msg) } })
  const decider = new TrackDecider(config, { logger, now: s.now, write: (_p, f) => s.writes.push(f ? '1' : '0'), hurry: () => {}, onFlapDamped: () => {}, wake: (ms) => wakes.push(ms) })
  s.state.latest = passing
  s.state.peers = [{ ...betterPeer, haproxy_up: true }]
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  decider.decide(config, s.state)
  s.state.haproxy = { up: false, detail: 'closed', since: s.now() }
  t.match(decider.decide(config, s.state), { fault: true, haproxyGone: true })
  s.advance(700) // systemd restarted it
  s.state.haproxy = { up: true, detail: 'runtime API answers', since: s.now() }
  t.match(decider.decide(config, s.state), { fault: true, reason: /^HAProxy answers again, for 0 ms: FAULT held until 2000 ms \(p serves meanwhile\)/ })
  t.same(wakes, [HAPROXY_RISE_MS], 'asks to decide again when the hold ends')
  s.advance(HAPROXY_RISE_MS - 1)
  t.match(decider.decide(config, s.state), { fault: true }, 'one ms short: still held')
  s.advance(1)
  t.match(decider.decide(config, s.state), { fault: false, reason: 'healthy' })
  t.same(s.writes, ['0', '1', '0'], 'FAULT once, cleared once: the hold wrote nothing')
  t.same(logged.filter((m) => m.startsWith('HAProxy back')), ['HAProxy back: its FAULT held while the peer serves'], 'the hold is logged once, where it starts')
})

t.test('HAProxy back with no peer that serves (none answers, or it is in FAULT itself): the FAULT clears at once', async (t) => {
  for (const peers of [[], [{ ...betterPeer, reachable: false }], [{ ...betterPeer, fault: true }], [{ ...betterPeer, haproxy_up: false }]]) {
    const s = setup()
    s.state.latest = passing
    s.state.peers = peers
    s.state.haproxy = { up: false, detail: 'closed', since: s.now() }
    s.decider.decide(config, s.state)
    s.advance(500)
    s.state.haproxy = { up: true, detail: 'ok', since: s.now() }
    t.match(s.decider.decide(config, s.state), { fault: false }, `peers: ${JSON.stringify(peers.map((p) => ({ reachable: p.reachable, fault: p.fault, haproxy_up: (p as { haproxy_up?: boolean }).haproxy_up })))}`)
  }
})

t.test('HAProxy back while a poll of the serving peer just failed: still held on what was last heard of it, for two poll periods at most; a word that it cannot serve ends the hold', async (t) => {
  const window = 2 * (config.cluster.poll_interval_ms + config.cluster.poll_timeout_ms)
  for (const after of ['silence', 'fault'] as const) {
    const s = setup()
    s.state.latest = passing
    s.state.peers = [{ ...betterPeer, haproxy_up: true }]
    s.state.haproxy = { up: false, detail: 'closed', since: s.now() }
    t.match(s.decider.decide(config, s.state), { fault: true, haproxyGone: true })
    s.advance(700)
    s.state.peers = [{ ...betterPeer, reachable: false, error: 'timed out after 300 ms' }]
    s.state.haproxy = { up: true, detail: 'ok', since: s.now() }
    t.match(s.decider.decide(config, s.state), { fault: true, reason: /FAULT held until 2000 ms \(p, heard 700 ms ago, serves meanwhile\)/ }, `${after}: held on the word of 700 ms ago`)
    if (after === 'silence') {
      s.advance(window - 700)
      t.match(s.decider.decide(config, s.state), { fault: true }, `silence: held while the last word is ${window} ms old`)
      s.advance(1)
      t.match(s.decider.decide(config, s.state), { fault: false, reason: 'healthy' }, 'silence: older than two poll periods, it is no evidence: cleared')
    } else {
      s.advance(100)
      s.state.peers = [{ ...betterPeer, fault: true }]
      t.match(s.decider.decide(config, s.state), { fault: false, reason: 'healthy' }, 'fault: the peer says it cannot serve: cleared at once')
    }
    t.same(s.writes, ['1', '0'], `${after}: FAULT once, cleared once`)
  }
})

t.test('a daemon that starts with HAProxy up holds nothing: there was no FAULT of its own to hold', async (t) => {
  const s = setup()
  s.state.latest = passing
  s.state.peers = [betterPeer]
  s.state.haproxy = { up: true, detail: 'ok', since: s.now() }
  t.match(s.decider.decide(config, s.state), { fault: false })
  t.same(s.writes, ['0'])
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

const withYield = buildConfig(
  { checks: { interval_ms: 500, haproxy: { socket: '/x' } }, keepalived: { track_file: track, yield_file: join(dir, 'yield') }, peers: ['http://p:9471'], cluster: { poll_interval_ms: 500, flap_max: 2, flap_window_ms: 60_000 } },
  null,
  { env: {} },
)
/** the writer records both files: `fault=1`, `yield=0` */
function setupBoth() {
  let now = 1_000_000
  const writes: string[] = []
  const state = new DaemonState()
  const decider = new TrackDecider(withYield, {
    logger: silentLogger,
    now: () => now,
    write: (path, v) => {
      writes.push(`${path.endsWith('yield') ? 'yield' : 'fault'}=${v ? 1 : 0}`)
      writeFileSync(path, v ? '1\n' : '0\n')
    },
    hurry: () => {},
    onFlapDamped: () => {},
  })
  return { state, decider, writes, advance: (ms: number) => (now += ms), now: () => now }
}

t.test('maintenance: FAULT at once, even before HAProxy has answered, whatever the health, and not damped', async (t) => {
  const s = setupBoth()
  s.state.maintenance = { on: true, since: 'x', reason: 'kernel update' }
  t.match(s.decider.decide(withYield, s.state), { fault: true, operator: 'maintenance', reason: 'maintenance: kernel update' })
  t.notOk(s.state.fault.pending, 'not pending: the file holds it before keepalived starts (a reboot)')
  t.same(s.writes, ['yield=0', 'fault=1'])
  t.ok(s.decider.settled(withYield), 'both files written: ready')
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.state.latest = passing
  s.state.peers = [betterPeer]
  t.match(s.decider.decide(withYield, s.state), { fault: true, operator: 'maintenance', checkExit: 0 }, 'healthy, still FAULT; check exits by health')
  // on and off and on again, faster than flap_max allows deep checks: never held
  for (let i = 0; i < 3; i++) {
    s.state.maintenance = { on: false, since: null, reason: null }
    t.match(s.decider.decide(withYield, s.state), { fault: false, reason: 'healthy' })
    s.state.maintenance = { on: true, since: 'x', reason: null }
    t.match(s.decider.decide(withYield, s.state), { fault: true, reason: 'maintenance' })
  }
  t.same(s.writes.filter((w) => w.startsWith('fault')), ['fault=1', 'fault=0', 'fault=1', 'fault=0', 'fault=1', 'fault=0', 'fault=1'])
})

t.test('maintenance holds over a relative fault under confirmation and over HAProxy gone', async (t) => {
  const s = setupBoth()
  s.state.haproxy = { up: false, detail: 'closed', since: 0 }
  s.state.maintenance = { on: true, since: 'x', reason: null }
  t.match(s.decider.decide(withYield, s.state), { fault: true, operator: 'maintenance', haproxyGone: true, checkExit: 1 })
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.state.latest = failing('pgbouncer')
  s.state.peers = [betterPeer]
  const d = s.decider.decide(withYield, s.state)
  t.match(d, { fault: true, operator: 'maintenance' })
  t.notOk(d.confirming, 'nothing to confirm: the operator said so')
})

t.test('a switchover: yield file first, then FAULT; leaving the hand-over is not damped, the yield stays', async (t) => {
  const s = setupBoth()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.state.latest = passing
  s.decider.decide(withYield, s.state)
  t.same(s.writes, ['yield=0', 'fault=0'])
  // two deep-check flips fill the flap window (flap_max 2)
  s.state.peers = [betterPeer]
  for (const v of [failing('pgbouncer'), passing]) {
    s.state.latest = v
    s.decider.decide(withYield, s.state)
    s.advance(1000)
    s.state.latestStartedAt = s.state.peersStartedAt = s.now()
    s.state.peers = [passesAt(s.now())]
    s.decider.decide(withYield, s.state)
  }
  s.writes.length = 0
  s.state.yielding = true
  s.state.handover = { to: 'p', since: s.now() }
  t.match(s.decider.decide(withYield, s.state), { fault: true, operator: 'switchover', reason: 'switchover: handing the VIP over to p' })
  t.same(s.writes, ['yield=1', 'fault=1'], 'in that order: keepalived lowers the priority, then drops the VIP')
  s.state.handover = undefined
  t.match(s.decider.decide(withYield, s.state), { fault: false, reason: 'healthy' }, 'back: not held by flap damping')
  t.same(s.writes, ['yield=1', 'fault=1', 'fault=0'])
  t.equal(readFileSync(join(dir, 'yield'), 'utf8'), '1\n', 'the yield stays')
})

t.test('settled waits for the yield file too; reconcile puts it right', async (t) => {
  const s = setupBoth()
  s.state.haproxy = { up: true, detail: 'ok', since: 0 }
  s.decider.decide(withYield, s.state)
  t.ok(s.decider.settled(withYield))
  writeFileSync(join(dir, 'yield'), '1\n')
  s.decider.reconcile(withYield, s.state)
  t.equal(readFileSync(join(dir, 'yield'), 'utf8'), '0\n')
  const fresh = new TrackDecider(withYield, { logger: silentLogger, write: () => { throw new Error('EROFS') }, hurry: () => {}, onFlapDamped: () => {} })
  fresh.decide(withYield, s.state)
  t.notOk(fresh.settled(withYield), 'files not written: not ready')
})
