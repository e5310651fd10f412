// Planned operations on the pair as installed (two booted Debian 13 nodes, the
// .deb configured by vagrant/provision.sh, everything under systemd): a
// switchover under a client opening a connection every 20 ms, and maintenance
// that holds through a package upgrade and a reboot of the node, then off.
// The subtests run in order on one pair.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startLab } from '../fixtures/lab.js'
import { agent, api, clientSince, metric, ONE_SYN_RESEND_MS, statusOf, type Node, atMostOneCut } from '../fixtures/operations.js'
import { waitFor } from '../fixtures/procs.js'

const lab = await startLab(t, { booted: true })
await lab.waitForHolder('1', 30_000)
const probe = lab.startProbe(20)
t.teardown(() => probe.stop())
await waitFor('client through the VIP', () => probe.rows().some((r) => r.ok) || undefined)

const settle = (ms = 1000) => new Promise((r) => setTimeout(r, ms))
const show = async (n: Node, unit: string, prop: string) => (await lab.exec(n, ['systemctl', 'show', unit, '-p', prop, '--value'])).trim()
const stateOf = async (n: Node) => ((await statusOf(lab, n)).instances as Array<{ state: string }>).map((i) => i.state).join(',')
/** both daemons answer and see each other, every check passing on both (a node in maintenance is unhealthy on purpose) */
async function pairReady() {
  await waitFor('both nodes passing their checks, each seeing the other', async () => {
    for (const n of [1, 2] as const) {
      const s = await statusOf(lab, n).catch(() => undefined)
      if (!s?.checks.length || s.checks.some((c: { status: string }) => c.status !== 'pass') || !s.peers[0]?.reachable) return undefined
      if (!s.healthy && !s.maintenance.on) return undefined
    }
    return true
  }, 60_000, 250)
}

t.test('switchover and back, run on the master and then on the BACKUP: no failed query', async (t) => {
  await pairReady()
  await settle()
  const at = Date.now()
  let r = await agent(lab, 1, 'switchover')
  t.equal(r.code, 0, `exit 0: ${r.stdout}${r.stderr}`)
  t.match(r.stdout, /^VIP moved from haproxy1 to haproxy2 in (\d+|under 10) ms/)
  t.equal(await lab.holder(), '2')
  await probe.waitForSuccessAfter(Date.now())
  await settle(1500)
  let c = clientSince(lab, probe, at)
  t.comment(`booted switchover: client gap ${c.gap} ms, ${c.failed.length} failed queries (${c.stranded.length} stranded) (${r.stdout.split('\n')[0]})`)
  atMostOneCut(t, c, 'booted switchover')
  t.ok(c.gap <= ONE_SYN_RESEND_MS, `gap ${c.gap} ms`)
  t.match(await statusOf(lab, 1), { yielding: true })
  t.equal((await lab.exec(1, ['cat', '/run/ha-agent/yield'])).trim(), '1', 'the yield file under the unit\'s RuntimeDirectory')

  await pairReady()
  const back = Date.now()
  r = await agent(lab, 1, 'switchover')
  t.equal(r.code, 0, `back, from the BACKUP: ${r.stdout}${r.stderr}`)
  t.equal(await lab.holder(), '1')
  await probe.waitForSuccessAfter(Date.now())
  await settle(1500)
  c = clientSince(lab, probe, back)
  t.comment(`booted switchover back, run on the BACKUP: client gap ${c.gap} ms, ${c.failed.length} failed queries (${c.stranded.length} stranded)`)
  atMostOneCut(t, c, 'booted switchover run on the BACKUP')
})

t.test('maintenance on node 1 holds through a package upgrade of both nodes', async (t) => {
  await pairReady()
  const at = Date.now()
  const r = await agent(lab, 1, 'maintenance', 'on', '--reason', 'kernel update')
  t.equal(r.code, 0, `exit 0: ${r.stdout}${r.stderr}`)
  t.equal(await lab.holder(), '2')
  await probe.waitForSuccessAfter(Date.now())
  await settle(1500)
  atMostOneCut(t, clientSince(lab, probe, at), 'booted maintenance on')

  const { version: next, deb } = await lab.stageNextDeb()
  const pids = [await show(1, 'ha-agent', 'MainPID'), await show(2, 'ha-agent', 'MainPID')]
  const upgradeAt = Date.now()
  const holders = await lab.holdersDuring(async () => {
    for (const n of [1, 2] as const) {
      await lab.aptInstall(n, deb)
    }
  }, 3000)
  for (const n of [1, 2] as const) {
    t.equal((await lab.exec(n, ['dpkg-query', '-W', '-f=${Version}', 'ha-agent'])).trim(), next, `node ${n} upgraded`)
    t.not(await show(n, 'ha-agent', 'MainPID'), pids[n - 1], `node ${n}: the new version runs`)
  }
  t.same([...holders], ['2'], 'the VIP stayed on node 2 throughout: node 1 never left maintenance')
  t.same(clientSince(lab, probe, upgradeAt).failed, [], 'no failed client query')
  t.match(await statusOf(lab, 1), { maintenance: { on: true, reason: 'kernel update' } })
  t.equal(await stateOf(1), 'FAULT')
})

t.test('maintenance on node 1 holds through its reboot; off brings the VIP back', async (t) => {
  const holders = await lab.holdersDuring(async () => {
    await lab.sh('poweroff', '1')
    await lab.waitForHolder('2', 10_000)
    await lab.sh('boot', '1').catch((err: { stderr?: string }) => {
      const log = `/var/tmp/ha-agent-lab-${lab.prefix}/n1/console.log`
      throw new Error(`lab.sh boot 1 failed: ${err.stderr ?? err}; ${log} ends: ${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : 'no console log'}`)
    })
    await waitFor("node 1's units active after the boot", async () => {
      const s = await lab.exec(1, ['systemctl', 'is-active', 'haproxy', 'ha-agent', 'keepalived']).catch(() => '')
      return s === 'active\nactive\nactive' || undefined
    }, 60_000, 250)
    await settle(3000)
  }, 1000)
  t.same([...holders], ['2'], 'node 1 did not take the VIP when it came back')
  t.match(await statusOf(lab, 1), { maintenance: { on: true, reason: 'kernel update' } }, 'the daemon after the boot finds it in state_dir')
  t.equal(await stateOf(1), 'FAULT')
  t.equal((await lab.exec(1, ['cat', '/run/ha-agent/fault'])).trim(), '1', 'written before keepalived started')
  t.equal(await metric(lab, 1, 'ha_agent_maintenance'), 1)
  t.equal((await api(lab, 1, '/master'))[0], 503)

  await pairReady()
  const at = Date.now()
  const r = await agent(lab, 1, 'maintenance', 'off')
  t.equal(r.code, 0, `off: ${r.stdout}${r.stderr}`)
  t.match(r.stdout, /holds the VIP again/)
  t.equal(await lab.holder(), '1')
  await probe.waitForSuccessAfter(Date.now())
  await settle(1500)
  const c = clientSince(lab, probe, at)
  t.comment(`booted maintenance off (a switchover back): client gap ${c.gap} ms, ${c.failed.length} failed queries (${c.stranded.length} stranded)`)
  atMostOneCut(t, c, 'booted maintenance off')
  t.equal(await metric(lab, 1, 'ha_agent_maintenance'), 0)
})
