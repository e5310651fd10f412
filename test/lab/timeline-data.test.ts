import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { failedQueries, longestGap, readTimeline, stateSpans, textEvents } from '../../lab/timeline-data.mjs'
import { DEMO_DIR, DEMO_RUN, demoTimeline } from '../fixtures/timeline.js'

const TIMELINE = fileURLToPath(new URL('../../lab/timeline.mjs', import.meta.url))
const K = DEMO_RUN.kill_ms

t.test("a demo run's files, read once", async (t) => {
  const d = demoTimeline()
  const [n1, n2] = d.nodes!
  t.same(n1!.states.map((s) => [s.state, s.from - K]), [['BACKUP', -3735], ['MASTER', -3414], ['FAULT', 46]], "node 1's keepalived, from its vrrp.transition webhooks")
  t.equal(n1!.states.at(-1)!.to, undefined, 'the last state is open')
  t.equal(n1!.states[0]!.to, n1!.states[1]!.from, 'each state lasts until the next')
  t.same(n2!.states.map((s) => [s.state, s.from - K]).slice(-2), [['BACKUP', -3390], ['MASTER', 51]])
  const after = n1!.events.filter((e) => e.at >= K).map((e) => [e.label, e.at - K])
  t.same(after, [['HAProxy gone', 29], ['track_file 1', 29], ['notify FAULT', 318], ['check.failed haproxy', 964], ['check.failed postgres', 987]], "node 1's ha-agent: only the lines a failover is told by")
  t.equal(n1!.events.find((e) => e.label === 'HAProxy gone')!.level, 'warn')
  t.same(d.gap && [d.gap.from - K, d.gap.to - K, d.gap.to - d.gap.from], [612, 731, 119], 'the gap: the longest between good queries (here a slow query, not the failover)')
  t.same(d.vip, { at: DEMO_RUN.vip_ms, from: 'node 1', to: 'node 2', seen: 'polled' })
  t.ok(d.webhooks!.some((w) => w.label === 'MASTER (haproxy2)' && w.detail === 'vrrp.transition'))
  t.ok(d.webhooks!.some((w) => w.label === 'check.failed haproxy (haproxy1)'))
  t.equal(d.queries!.length, 81)
  t.equal(failedQueries(d), 0)
  t.equal(d.end, undefined, 'no end: the record runs on')
})

t.test('the text timeline comes from the same data', async (t) => {
  const lines = textEvents(demoTimeline()).map((e) => `${Math.round(e.ms)} ${e.what}`)
  t.same(lines.slice(0, 7), [
    '0 HAProxy on node 1 killed (SIGKILL)',
    '6 client: first successful query through the VIP after the fault',
    '29 ha-agent on node 1: HAProxy gone (HAProxy closed the runtime API connection (/run/ha-agent-lab-hal/n1/haproxy-agent.sock))',
    '29 ha-agent on node 1: track_file 1',
    '46 keepalived on node 1: VI_1 -> FAULT (notify forked, 10 ms ticks)',
    '51 keepalived on node 2: VI_1 -> MASTER (notify forked, 10 ms ticks)',
    '52 VIP present on node 2',
  ])
  t.ok(lines.includes('267 webhook received: vrrp.transition MASTER (haproxy2)'))
  t.ok(lines.includes('1015 webhook received: check.failed haproxy (haproxy1)'))
  t.notOk(lines.some((l) => l.startsWith('-')), 'nothing from before the fault')
})

t.test("until: a bench run's window, and the VIP from keepalived without a poller", async (t) => {
  const d = readTimeline({ dir: DEMO_DIR, faultMs: K, failed: '1', other: '2', until: K + 100, gapSince: K - 1000 })
  t.equal(d.end, K + 100)
  t.notOk(d.nodes!.some((n) => n.events.some((e) => e.at > K + 100)), 'nothing later')
  t.ok(d.queries!.every((q) => q.done <= K + 100))
  t.same(d.vip, { at: K + 51, from: 'node 1', to: 'node 2', seen: 'keepalived MASTER' })
  t.match(textEvents(d).map((e) => e.what), ['HAProxy on node 1 killed (SIGKILL)'])
  t.ok(textEvents(d).some((e) => e.what === 'VIP present on node 2 (keepalived MASTER)'))
})

t.test('missing files are no data, not a crash', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timeline-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const d = readTimeline({ dir, faultMs: K, failed: '1', other: '2' })
  t.same(d.nodes!.map((n) => [n.states.length, n.events.length]), [[0, 0], [0, 0]])
  t.same([d.queries, d.webhooks, d.gap, d.vip], [[], [], undefined, undefined])
})

t.test('stateSpans and longestGap', async (t) => {
  t.same(stateSpans([{ at: 30, state: 'MASTER' }, { at: 10, state: 'BACKUP' }]), [{ state: 'BACKUP', from: 10, to: 30 }, { state: 'MASTER', from: 30 }], 'in time order')
  const q = (done: number, ok = true) => ({ t: done - 5, done, ok })
  t.same(longestGap([q(0), q(50), q(100, false), q(170), q(220)], 0), { from: 50, to: 170 })
  t.same(longestGap([q(0), q(50), q(300)], 40), { from: 50, to: 300 }, 'from `since` on')
  t.equal(longestGap([q(0)], 0), undefined)
})

t.test('timeline.mjs prints the text and draws the SVG', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timeline-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const svg = join(dir, 'x.svg')
  const out = execFileSync(process.execPath, [TIMELINE, DEMO_DIR, String(K), '1', '2', String(DEMO_RUN.vip_ms), '--svg', svg], { encoding: 'utf8' })
  t.match(out, /^\s+52 {3}VIP present on node 2$/m)
  t.match(out, /client-visible outage \(longest gap between successful queries, one every ~50 ms\): 119 ms; failed queries: 0/)
  t.match(readFileSync(svg, 'utf8'), /^<\?xml[\s\S]*client-visible gap: 119 ms[\s\S]*<\/svg>\n$/)
  const json = JSON.parse(execFileSync(process.execPath, [TIMELINE, DEMO_DIR, String(K), '1', '2', String(DEMO_RUN.vip_ms), '--json'], { encoding: 'utf8' }))
  t.same([json.outage_ms, json.failed_queries, json.events[0].what], [119, 0, 'HAProxy on node 1 killed (SIGKILL)'])
  const bad = spawnSync(process.execPath, [TIMELINE, DEMO_DIR, String(K), '1', '2', 'NaN', '--svg'], { encoding: 'utf8' })
  t.equal(bad.status, 2)
  t.match(bad.stderr, /--svg needs a PATH/)
})
