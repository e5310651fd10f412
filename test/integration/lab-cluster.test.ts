// Cluster awareness in the lab: split brain, shared vs local failures, the FIFO.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { startLab, type Lab } from '../fixtures/lab.js'
import { waitFor } from '../fixtures/procs.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const trackFile = (lab: Lab, n: number) => readFileSync(`${lab.dir}/n${n}/run/fault`, 'utf8').trim()
const status = async (lab: Lab, n: 1 | 2) => JSON.parse(await lab.exec(n, [`${lab.dir}/n${n}/ha-agent`, 'status', '--json']))

t.test('with notify scripts', async (t) => {
  const lab = await startLab(t)
  await lab.waitForHolder('1')
  await waitFor('both agents see their peer', async () => ((await status(lab, 1)).peers[0]?.reachable && (await status(lab, 2)).peers[0]?.reachable) || undefined, 20_000, 200)

  await t.test('VRRP cut between the nodes: split brain reported within 10 s, once, and resolved', async (t) => {
    const cutAt = Date.now()
    // Node 2 stops hearing node 1's adverts; HTTP between the agents still works.
    await lab.exec(2, ['iptables', '-A', 'INPUT', '-p', '112', '-j', 'DROP'])
    await lab.waitForHolder('both')
    const report = await waitFor('cluster.split_brain', () => lab.webhooks().find((w) => w.body.type === 'cluster.split_brain'), 20_000, 100)
    const detectedMs = report.at - cutAt
    t.comment(`split brain: VRRP cut -> webhook received ${detectedMs} ms (threshold split_brain_after_ms 3000)`)
    t.ok(detectedMs < 10_000, `reported after ${detectedMs} ms`)
    t.match(report.body.data, { node: 'haproxy1', instance: 'VI_1', peers: ['haproxy2'], dedup_key: 'split_brain/VI_1/haproxy1,haproxy2' })
    // Each node counts split_brain_after_ms from its own poll: node 2 may see it up to a poll interval (1 s) later.
    const seenBy2 = await waitFor('node 2 shows the split brain', async () => {
      const sb = (await status(lab, 2)).split_brain
      return sb.length ? sb : undefined
    }, 5_000, 100)
    t.match(seenBy2, [{ instance: 'VI_1', peers: ['haproxy1'] }], 'node 2 shows it too')
    const metrics = await lab.exec(1, ['sh', '-c', `curl -s --cacert ${lab.dir}/ca/ca.crt -H "Authorization: Bearer $(cat ${lab.dir}/cluster.token)" https://${lab.net}.11:9471/metrics`])
    t.match(metrics, /ha_agent_split_brain\{vrrp_instance="VI_1"\} 1/)
    t.match(metrics, /^ha_agent_keepalived_up 1$/m, "the daemon sees its node's keepalived (its own VRRP pid file)")
    await lab.exec(2, ['iptables', '-D', 'INPUT', '-p', '112', '-j', 'DROP'])
    await lab.waitForHolder('1')
    const resolved = await waitFor('cluster.split_brain_resolved', () => lab.webhooks().find((w) => w.body.type === 'cluster.split_brain_resolved'), 20_000, 100)
    t.equal(resolved.body.data.dedup_key, report.body.data.dedup_key)
    t.equal(lab.webhooks().filter((w) => w.body.type === 'cluster.split_brain').length, 1, 'reported by one node, once')
  })

  await t.test('PostgreSQL stopped: a shared failure, neither node FAULTs, the VIP stays', async (t) => {
    await lab.sh('stop-postgres')
    await waitFor('postgres check failing on both', async () => {
      const [a, b] = [await status(lab, 1), await status(lab, 2)]
      const failing = (s: any) => s.checks.find((c: any) => c.name === 'postgres')?.status === 'fail'
      return failing(a) && failing(b) ? true : undefined
    }, 20_000, 200)
    await sleep(4000)
    t.equal(await lab.holder(), '1', 'VIP stayed on node 1')
    t.equal(trackFile(lab, 1), '0')
    t.equal(trackFile(lab, 2), '0')
    t.match((await status(lab, 1)).track_file.reason, /shared failure/)
    const check = await lab.exec(1, ['sh', '-c', `${lab.dir}/n1/ha-agent check; echo exit=$?`])
    t.match(check, /exit=0/, '`ha-agent check` exits 0 for a shared failure: no weight drop either')
    await lab.sh('start-postgres')
    await waitFor('postgres back on both', async () => ((await status(lab, 1)).healthy && (await status(lab, 2)).healthy) || undefined, 30_000, 300)
  })

  await t.test('the master alone cut off from the PgBouncers: the VIP moves to the backup', async (t) => {
    const probe = lab.startProbe(50)
    t.teardown(() => probe.stop())
    await sleep(1000)
    const at = Date.now()
    await lab.exec(1, ['iptables', '-A', 'OUTPUT', '-d', `${lab.net}.20`, '-j', 'DROP'])
    await lab.waitForHolder('2', 30_000)
    const movedMs = Date.now() - at
    t.comment(`partition only the master sees -> VIP on the backup: ${movedMs} ms`)
    t.match((await status(lab, 1)).track_file, { fault: true, reason: /passes on haproxy2/ })
    await probe.waitForSuccessAfter(at, 20_000)
    await lab.exec(1, ['iptables', '-D', 'OUTPUT', '-d', `${lab.net}.20`, '-j', 'DROP'])
    await lab.waitForHolder('1', 30_000)
    t.equal(await lab.holder(), '1', 'healed: node 1 healthy again and preferred')
  })
})

t.test('with notify_fifo: keepalived restarted, no transition missed', async (t) => {
  const lab = await startLab(t, { notify: 'fifo' })
  await lab.waitForHolder('1')
  await sleep(1000)
  await lab.sh('kill-keepalived', '2')
  await lab.sh('start-keepalived', '2')
  await sleep(500)
  await lab.sh('kill-haproxy', '1')
  await lab.waitForHolder('2')
  await lab.sh('start-haproxy', '1')
  await lab.waitForHolder('1')
  await sleep(2000)
  for (const n of [1, 2] as const) {
    const entered = readFileSync(`${lab.dir}/n${n}/keepalived.log`, 'utf8')
      .split('\n')
      .map((l) => /\(VI_1\) Entering (\w+) STATE/.exec(l)?.[1])
      .filter(Boolean)
    const got = lab.webhooks().filter((w) => w.body.type === 'vrrp.transition' && w.body.data.node === `haproxy${n}`)
    t.ok(got.every((w) => w.body.data.source === 'fifo'), `node ${n}: every transition came through the FIFO`)
    // keepalived writes STOP to the FIFO when its VRRP child shuts down, but logs no
    // "Entering STOP STATE" line for it: compare the states the log can show.
    t.same(got.map((w) => w.body.data.state).filter((st) => st !== 'STOP'), entered, `node ${n}: the webhook saw exactly keepalived's transitions, in order`)
  }
})
