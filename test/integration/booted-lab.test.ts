// The package as installed: two booted Debian 13 nodes (systemd as PID 1, in
// systemd-nspawn -b), the built .deb installed and configured by
// vagrant/provision.sh, HAProxy, ha-agent and keepalived started by systemd
// (lab.sh up --booted). What the host lab proves of the code, proven here of the
// package: the unit's sandbox, Debian's haproxy and keepalived units, upgrades,
// reboots and purge. The subtests run in order on one pair.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { readTimeline } from '../../lab/timeline-data.mjs'
import { COLORS, renderTimelineSvg } from '../../lab/timeline-svg.mjs'
import { chromium, noChromium } from '../fixtures/chromium.js'
import { startLab } from '../fixtures/lab.js'
import { countColour, decodePng } from '../fixtures/png.js'
import { waitFor } from '../fixtures/procs.js'
import { xmlProblems } from '../fixtures/xml.js'

const run = promisify(execFile)

const lab = await startLab(t, { booted: true })
await lab.waitForHolder('1', 30_000)
const probe = lab.startProbe(50)
t.teardown(() => probe.stop())
await waitFor('client through the VIP', () => probe.rows().some((r) => r.ok) || undefined)

type Node = 1 | 2
const show = async (n: Node, unit: string, prop: string) => (await lab.exec(n, ['systemctl', 'show', unit, '-p', prop, '--value'])).trim()
const token = async () => (await run('cat', [`${lab.dir}/cluster.token`])).stdout.trim()
/** An HTTPS request to node n's API from the client's namespace: [status, body]. */
async function api(n: Node, path: string, bearer?: string): Promise<[number, string]> {
  const auth = bearer ? ['-H', `Authorization: Bearer ${bearer}`] : []
  const out = await lab.exec('cl', ['curl', '-s', '-w', '\n%{http_code}', '--cacert', `${lab.dir}/ca/ca.crt`, ...auth, `https://${lab.net}.1${n}:9471${path}`])
  const at = out.lastIndexOf('\n')
  return [Number(out.slice(at + 1)), out.slice(0, at)]
}
/** ha-agent's journal lines of this boot, as journald stored them (PRIORITY, MESSAGE). */
async function journal(n: Node, ...args: string[]): Promise<Array<{ PRIORITY: string; MESSAGE: string; __REALTIME_TIMESTAMP: string }>> {
  const out = await lab.exec(n, ['journalctl', '-u', 'ha-agent', '-b', '-o', 'json', '--no-pager', '-q', ...args])
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l))
}
const daemonLines = <L extends { MESSAGE: string }>(lines: L[]) => lines.filter((l) => typeof l.MESSAGE === 'string' && l.MESSAGE.startsWith('{'))
const failedSince = (at: number) => probe.rows().filter((r) => r.t >= at && !r.ok)
const transitionsSince = (at: number) => lab.transitions().filter((x) => x.at >= at)

t.test('as installed: the three units are active, the daemon sees keepalived, the role endpoints answer for the real roles', async (t) => {
  for (const n of [1, 2] as const) {
    t.equal(await lab.exec(n, ['systemctl', 'is-active', 'haproxy', 'ha-agent', 'keepalived']), 'active\nactive\nactive', `node ${n}: haproxy, ha-agent, keepalived`)
    const [code, metrics] = await api(n, '/metrics', await token())
    t.equal(code, 200)
    t.match(metrics, /^ha_agent_keepalived_up 1$/m, `node ${n}: keepalived is seen running (Debian's unit, its default pid file)`)
  }
  t.same(await api(1, '/master').then((r) => r[0]), 200, 'node 1 holds the VIP: /master 200')
  t.same(await api(1, '/backup').then((r) => r[0]), 503)
  t.same(await api(2, '/master').then((r) => r[0]), 503)
  t.same(await api(2, '/backup').then((r) => r[0]), 200, 'node 2 is BACKUP: /backup 200')
  const exposure = await lab.exec(1, ['systemd-analyze', 'security', 'ha-agent.service', '--no-pager'])
  const level = Number(/Overall exposure level for ha-agent\.service: ([\d.]+)/.exec(exposure)?.[1])
  t.ok(level <= 2.0, `systemd-analyze security: exposure ${level} (at most 2.0)`)
})

t.test('a default install is quiet at steady state: no warning in either journal, none from Node.js', async (t) => {
  for (const n of [1, 2] as const) {
    const all = await journal(n)
    t.ok(daemonLines(all).some((l) => l.MESSAGE.includes('"msg":"ready"')), `node ${n}: the daemon started and said so`)
    const warnings = await journal(n, '-p', 'warning')
    t.same(warnings.map((l) => l.MESSAGE), [], `node ${n}: journalctl -u ha-agent -p warning is empty`)
    t.same(all.filter((l) => /^Warning:|clear text/.test(String(l.MESSAGE))).map((l) => l.MESSAGE), [], `node ${n}: no V8 flag warning, no token in clear text`)
  }
})

t.test('no notify is refused, and two notifies forked close together are recorded in keepalived\'s order', async (t) => {
  for (const n of [1, 2] as const) {
    t.same(daemonLines(await journal(n)).filter((l) => l.MESSAGE.includes('notify refused')).map((l) => l.MESSAGE), [], `node ${n}: every notify keepalived ran was taken`)
  }
  // As keepalived runs them (as the ha-agent user), the earlier fork starting its Node.js 150 ms late.
  const at = Date.now()
  const out = await lab.exec(1, ['setpriv', '--reuid=ha-agent', '--regid=ha-agent', '--init-groups', '--reset-env', '--', 'sh', '-c',
    `sh -c 'sleep 0.15; exec "$@"' sh /usr/bin/ha-agent notify INSTANCE VI_RACE MASTER 200 & first=$!
     sleep 0.03
     /usr/bin/ha-agent notify INSTANCE VI_RACE BACKUP 100; second=$?
     wait $first; echo "$? $second"`])
  t.equal(out, '0 0', 'both notifies exit 0 (recorded)')
  const got = await waitFor('both VI_RACE transitions at the receiver', () => {
    const race = lab.webhooks().filter((w) => w.at >= at && w.body.type === 'vrrp.transition' && w.body.data.instance === 'VI_RACE')
    return race.length >= 2 ? race : undefined
  }, 15_000, 100)
  t.match(got.map((w) => w.body.data), [
    { node: 'haproxy1', state: 'MASTER', source: 'notify' },
    { node: 'haproxy1', state: 'BACKUP', previous_state: 'MASTER', source: 'notify' },
  ], 'fork order, with previous_state as keepalived went')
  t.same(daemonLines(await journal(1)).filter((l) => l.MESSAGE.includes('notify refused')).map((l) => l.MESSAGE), [], 'neither was refused')
})

let haproxyKill: { at: number; until: number } | undefined
t.test('HAProxy killed on the master: the VIP moves with the lab\'s gap; systemd restarts HAProxy and the VIP comes back', async (t) => {
  const at = Date.now()
  const restartsBefore = Number(await show(1, 'haproxy', 'NRestarts'))
  await lab.sh('kill-haproxy', '1')
  await lab.waitForHolder('2', 5_000)
  t.pass('the VIP moved to node 2')
  await lab.waitForHolder('1', 30_000)
  t.ok(Number(await show(1, 'haproxy', 'NRestarts')) > restartsBefore, "Debian's haproxy unit restarted it (Restart=always)")
  await probe.waitForSuccessAfter(Date.now())
  // Two hand-overs, the failover and the fail-back: each may strand the one session in flight as the VIP left (Probe.strandedSince).
  const stranded = probe.strandedSince(at, lab.leftMaster())
  const outage = probe.outageSince(at, stranded)
  const failed = failedSince(at).map((r) => `+${r.t - at} ms for ${r.done - r.t} ms: ${r.error} (TCP ${r.tcp == null ? 'never connected' : `connected after ${r.tcp} ms`}${stranded.some((s) => s.t === r.t) ? ', stranded by the hand-over' : ''})`)
  const moves = transitionsSince(at).map((x) => `+${x.happened - at} ms ${x.node} ${x.state}`)
  t.comment(`HAProxy SIGKILL, booted: client-visible outage ${outage} ms (failover and failback; a stranded session's wait for its own timeout not counted), failed queries ${failed.length} [${failed.join('; ')}], transitions [${moves.join('; ')}]`)
  t.ok(stranded.length <= 2, `at most one stranded session per hand-over: ${stranded.length}`)
  if (outage >= 1500) {
    // what each daemon did meanwhile: CI's output is all there is of a rare long gap
    for (const n of [1, 2] as const) {
      const lines = daemonLines(await journal(n, '--since', `@${Math.floor(at / 1000) - 1}`)).map((l) => l.MESSAGE.replace(/"level":"(\w+)","time":"[^"]*T([\d:.]+)Z","node":"[^"]*",/, '$2 $1 '))
      t.comment(`node ${n}'s daemon since the kill:\n${lines.join('\n')}`)
    }
  }
  t.ok(outage < 3000, `outage ${outage} ms`)
  haproxyKill = { at, until: Date.now() }
})

t.test("that failover drawn from the nodes' journals (lab.sh export-logs): the agents' events, keepalived's states, the client", { skip: noChromium }, async (t) => {
  if (!haproxyKill) return t.fail('the HAProxy kill above did not finish')
  await lab.sh('export-logs')
  const data = readTimeline({ dir: lab.dir, faultMs: haproxyKill.at, failed: '1', other: '2', probeFile: probe.file, gapSince: haproxyKill.at - 1000, until: haproxyKill.until })
  const [n1, n2] = data.nodes!
  const labels = n1!.events.filter((e) => e.at >= haproxyKill!.at).map((e) => e.label)
  t.ok(labels.includes('HAProxy gone') && labels.includes('track_file 1'), `node 1's daemon, from its journal: ${labels.join(', ')}`)
  t.ok(n1!.states.some((s) => s.state === 'FAULT' && s.from >= haproxyKill!.at), 'node 1 went FAULT (its notify, through the webhook)')
  t.ok(n2!.states.some((s) => s.state === 'MASTER' && s.from >= haproxyKill!.at), 'node 2 became MASTER')
  t.ok(data.gap && data.queries!.some((q) => q.ok && q.t >= haproxyKill!.at), 'the client and its gap')
  const svg = renderTimelineSvg(data)
  t.same(xmlProblems(svg), [], 'well-formed SVG')
  t.match(svg, /track_file 1/, "the agent's events are drawn")
  const dir = lab.dir
  const [width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.slice(1).map(Number) as [number, number]
  writeFileSync(join(dir, 'booted-timeline.svg'), svg)
  writeFileSync(join(dir, 'booted-timeline.html'), '<!doctype html><html><body style="margin:0"><img src="booted-timeline.svg" style="display:block"></body></html>')
  const png = join(dir, 'booted-timeline.png')
  await chromium([`--screenshot=${png}`, `--window-size=${width},${height}`, `file://${join(dir, 'booted-timeline.html')}`])
  const pixels = decodePng(readFileSync(png))
  const counts = Object.fromEntries(['gap', 'ok', 'MASTER', 'FAULT'].map((c) => [c, countColour(pixels, COLORS[c as keyof typeof COLORS])]))
  t.comment(`pixels of each colour: ${JSON.stringify(counts)}`)
  t.ok(counts.gap! > 0 && counts.ok! > 100 && counts.MASTER! > 1000 && counts.FAULT! > 500, 'Chromium draws the gap, the good queries and the MASTER and FAULT spans')
})

t.test('journalctl -p warning shows the warnings and none of the info lines', async (t) => {
  const warnings = daemonLines(await journal(1, '-p', 'warning'))
  t.ok(warnings.some((l) => l.MESSAGE.includes('HAProxy')), 'the HAProxy fault of the test before is there')
  for (const l of warnings) t.ok(Number(l.PRIORITY) <= 4 && /"level":"(warn|error|fatal)"/.test(l.MESSAGE), `priority ${l.PRIORITY}: ${l.MESSAGE.slice(0, 120)}`)
  const info = daemonLines(await journal(1, '-p', 'info'))
  t.ok(info.some((l) => l.PRIORITY === '6' && l.MESSAGE.includes('"level":"info"')), 'info lines are there at -p info, with priority 6')
})

t.test('reload with a bad config is refused, and the running daemon stays', async (t) => {
  const pid = await show(1, 'ha-agent', 'MainPID')
  await lab.exec(1, ['sh', '-c', 'cp -p /etc/ha-agent/config.yaml /root/config.good && echo "no_such_key: 1" >>/etc/ha-agent/config.yaml'])
  t.teardown(() => lab.exec(1, ['cp', '-p', '/root/config.good', '/etc/ha-agent/config.yaml']))
  const reload = await lab.exec(1, ['sh', '-c', 'systemctl reload ha-agent 2>&1; echo "exit=$?"'])
  t.notMatch(reload, /exit=0$/, `systemctl reload fails: ${reload}`)
  t.equal(await show(1, 'ha-agent', 'MainPID'), pid, 'the same daemon runs')
  t.equal(await show(1, 'ha-agent', 'ActiveState'), 'active')
  t.ok((await journal(1)).some((l) => String(l.MESSAGE).includes('no_such_key')), 'the journal names the bad key')
  await lab.exec(1, ['cp', '-p', '/root/config.good', '/etc/ha-agent/config.yaml'])
  await lab.exec(1, ['systemctl', 'reload', 'ha-agent'])
  t.equal(await show(1, 'ha-agent', 'MainPID'), pid, 'a good reload keeps the process too')
})

t.test('the daemon frozen: the watchdog kills it, systemd restarts it, the VIP stays where it is', async (t) => {
  const pid = await show(1, 'ha-agent', 'MainPID')
  const restarts = Number(await show(1, 'ha-agent', 'NRestarts'))
  const at = Date.now()
  const holders = await lab.holdersDuring(async () => {
    await lab.sh('freeze-agent', '1')
    await waitFor('a new daemon, ready', async () => {
      const now = await show(1, 'ha-agent', 'MainPID')
      return now !== pid && now !== '0' && (await show(1, 'ha-agent', 'ActiveState')) === 'active' ? now : undefined
    }, 30_000, 250)
  }, 2000)
  t.comment(`frozen daemon replaced after ${Date.now() - at - 2000} ms`)
  t.same([...holders], ['1'], 'node 1 held the VIP throughout')
  t.equal(Number(await show(1, 'ha-agent', 'NRestarts')), restarts + 1, 'one restart (Restart=on-failure)')
  t.same(failedSince(at), [], 'no failed client query')
  t.same(transitionsSince(at), [], 'no VRRP transition')
  const fatal = daemonLines(await journal(1, '-p', 'crit'))
  t.ok(fatal.some((l) => l.MESSAGE.includes('event loop stood still')), 'the watchdog\'s line is in the journal at priority crit')
})

t.test('a package upgrade under traffic fails no query', async (t) => {
  const { version: next, deb } = await lab.stageNextDeb()
  const at = Date.now()
  const pids = [await show(1, 'ha-agent', 'MainPID'), await show(2, 'ha-agent', 'MainPID')]
  const holders = await lab.holdersDuring(async () => {
    for (const n of [2, 1] as const) {
      await lab.aptInstall(n, deb)
    }
  }, 3000)
  for (const n of [1, 2] as const) {
    t.equal((await lab.exec(n, ['dpkg-query', '-W', '-f=${Version}', 'ha-agent'])).trim(), next, `node ${n} upgraded`)
    t.equal(await show(n, 'ha-agent', 'ActiveState'), 'active')
    t.not(await show(n, 'ha-agent', 'MainPID'), pids[n - 1], `node ${n}: the new version runs`)
  }
  t.same([...holders], ['1'], 'the VIP stayed on node 1')
  t.same(failedSince(at), [], 'no failed client query')
})

t.test('a node powered off and booted again comes back by itself, ha-agent ready before keepalived starts', async (t) => {
  const at = Date.now()
  await lab.sh('poweroff', '1')
  await lab.waitForHolder('2', 10_000)
  t.pass('node 2 took the VIP while node 1 was off')
  await lab.sh('boot', '1')
  await waitFor('node 1\'s units active after the boot', async () => {
    const s = await lab.exec(1, ['systemctl', 'is-active', 'haproxy', 'ha-agent', 'keepalived']).catch(() => '')
    return s === 'active\nactive\nactive' || undefined
  }, 60_000, 250)
  await lab.waitForHolder('1', 30_000)
  t.pass('node 1 is back as MASTER, with nothing run by hand')
  const ready = Number(await show(1, 'ha-agent', 'ActiveEnterTimestampMonotonic'))
  const keepalived = Number(await show(1, 'keepalived', 'ExecMainStartTimestampMonotonic'))
  t.ok(ready > 0 && keepalived > 0 && ready <= keepalived, `ha-agent ready at ${ready} µs, keepalived started at ${keepalived} µs (since boot)`)
  t.same((await journal(1, '-p', 'warning')).map((l) => l.MESSAGE), [], 'a quiet journal after the boot too')
  await probe.waitForSuccessAfter(Date.now())
  t.comment(`power off and boot of the master: longest client gap ${probe.outageSince(at)} ms`)
})

t.test('apt-get purge leaves keepalived running, pins no FAULT, the VIP served; a reinstall is seen without restarting keepalived', async (t) => {
  const at = Date.now()
  const keepalivedPid = await show(1, 'keepalived', 'MainPID')
  await lab.exec(1, ['tar', '-C', '/etc', '-czf', '/root/etc-ha-agent.tgz', 'ha-agent'])
  const holders = await lab.holdersDuring(() => lab.exec(1, ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'purge', '-y', '-q', 'ha-agent']), 4000)
  t.equal(await show(1, 'keepalived', 'MainPID'), keepalivedPid, 'the same keepalived runs on')
  t.same([...holders], ['1'], 'one node held the VIP all along')
  t.same(failedSince(at), [], 'no failed client query')
  const status = await lab.exec(2, ['ha-agent', 'status', '--json'])
  t.notMatch(status, /"state":"FAULT"/, 'no instance in FAULT')
  t.equal(await lab.exec(1, ['sh', '-c', 'ls -A /run/ha-agent; echo "dir=$?"']), 'dir=0', 'the runtime dir stays (keepalived watches it), empty: no track_file to pin FAULT')

  // An operator reinstalls and restores the config: the fast path works at once.
  const debs = readdirSync(join(lab.dir, 'pkg')).filter((f) => f.endsWith('.deb')).sort()
  await lab.exec(1, ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '-o', 'Dpkg::Options::=--force-confold', `/srv/pkg/${debs.at(-1)}`])
  await lab.exec(1, ['sh', '-c', 'tar -C /etc -xzpf /root/etc-ha-agent.tgz && systemctl restart ha-agent'])
  t.equal(await show(1, 'keepalived', 'MainPID'), keepalivedPid, 'keepalived was not restarted')
  await lab.sh('kill-haproxy', '1')
  await lab.waitForHolder('2', 5_000)
  t.pass('HAProxy killed after the reinstall: keepalived saw the track_file, the VIP moved')
  await lab.waitForHolder('1', 30_000)
})

t.test('all along: no notify refused on either node', async (t) => {
  for (const n of [1, 2] as const) {
    t.same(daemonLines(await journal(n)).filter((l) => l.MESSAGE.includes('notify refused')).map((l) => l.MESSAGE), [], `node ${n}`)
  }
})
