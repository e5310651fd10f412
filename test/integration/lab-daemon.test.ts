// The daemon on the MASTER restarted, upgraded or killed, in the two-node lab:
// keepalived must not move the VIP for it, and no client query may fail.
// (README: "What keepalived sees when the daemon is not running".)
import t from 'tap'
import { cpSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startLab } from '../fixtures/lab.js'
import { waitFor } from '../fixtures/procs.js'

const lab = await startLab(t)
await lab.waitForHolder('1', 30_000)
const probe = lab.startProbe(50)
t.teardown(() => probe.stop())
await waitFor('client through the VIP', () => probe.rows().some((r) => r.ok) || undefined)

const agentPid = () => Number(readFileSync(`${lab.dir}/n1/agent.pid`, 'utf8'))
const ready = async () => {
  await waitFor('node 1 daemon ready', async () => {
    const out = await lab.exec(1, [`${lab.dir}/n1/ha-agent`, 'status', '--json']).catch(() => '')
    return out && JSON.parse(out).ready ? true : undefined
  }, 20_000, 200)
}
const failedSince = (at: number) => probe.rows().filter((r) => r.t >= at && !r.ok)

t.test('systemctl restart of the master\'s daemon: the VIP stays, no query fails', async (t) => {
  const at = Date.now()
  const holders = await lab.holdersDuring(async () => {
    await lab.sh('stop-agent', '1')
    await new Promise((r) => setTimeout(r, 500))
    await lab.sh('start-agent', '1')
    await ready()
  }, 3000)
  t.same([...holders], ['1'], 'node 1 held the VIP throughout')
  t.same(failedSince(at), [], 'no failed client query')
  t.equal(readFileSync(`${lab.dir}/n1/run/fault`, 'utf8'), '0\n')
})

t.test('a package upgrade (new program files, then a restart): the VIP stays, no query fails', async (t) => {
  const at = Date.now()
  const dist = fileURLToPath(new URL('../../dist/', import.meta.url))
  const holders = await lab.holdersDuring(async () => {
    // dpkg replaces files by rename while the old program runs, then postinst restarts it.
    rmSync(`${lab.dir}/bin.new`, { recursive: true, force: true })
    cpSync(dist, `${lab.dir}/bin.new`, { recursive: true })
    rmSync(`${lab.dir}/bin.old`, { recursive: true, force: true })
    renameSync(`${lab.dir}/bin`, `${lab.dir}/bin.old`)
    renameSync(`${lab.dir}/bin.new`, `${lab.dir}/bin`)
    await lab.sh('stop-agent', '1')
    await lab.sh('start-agent', '1')
    await ready()
  }, 3000)
  t.same([...holders], ['1'])
  t.same(failedSince(at), [])
})

t.test('SIGKILL of the master\'s daemon: the VIP stays while check answers alone; restarted, the daemon takes over', async (t) => {
  const at = Date.now()
  const holders = await lab.holdersDuring(async () => {
    process.kill(agentPid(), 'SIGKILL')
    // keepalived's vrrp_script keeps running `ha-agent check` (interval 1, fall 2): give it several rounds.
    await new Promise((r) => setTimeout(r, 5000))
  }, 0)
  t.same([...holders], ['1'], 'no daemon for 5 s: check probed by itself and kept the weight')
  t.equal(readFileSync(`${lab.dir}/n1/run/fault`, 'utf8'), '0\n', 'the track_file says what is true: 0')
  await lab.sh('start-agent', '1')
  await ready()
  t.same(failedSince(at), [], 'no failed client query')
  // and fast failover works again through the restarted daemon
  await lab.sh('kill-haproxy', '1')
  await lab.waitForHolder('2', 10_000)
  await lab.sh('start-haproxy', '1')
  await lab.waitForHolder('1', 20_000)
})
