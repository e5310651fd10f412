// The two-node lab end to end: real keepalived electing, moving the VIP and
// running `ha-agent notify`; real HAProxy, PgBouncer and PostgreSQL behind it; a
// client querying through the VIP. Outages are measured and reported; the
// assertions bound them generously (CI machines are noisy).
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { startLab } from '../fixtures/lab.js'
import { waitFor } from '../fixtures/procs.js'

const lab = await startLab(t)
const probe = lab.startProbe(50)
t.teardown(() => probe.stop())
await waitFor('client through the VIP', () => probe.rows().some((r) => r.ok) || undefined)

t.test('the shipped configs, as the lab rendered them, pass the tools own checks', async (t) => {
  for (const n of [1, 2]) {
    // keepalived 2.2.7's -t reports a valid file by ending with SIGTERM (exit 143), a bad one with exit 5 and the lines.
    const kt = spawnSync('keepalived', ['-t', '-l', '-f', `${lab.dir}/n${n}/keepalived.conf`, '-p', `${lab.dir}/kt.pid`, '-r', `${lab.dir}/kt-vrrp.pid`], { encoding: 'utf8' })
    t.ok((kt.status === 0 || kt.signal === 'SIGTERM') && !/Line \d+|Unknown keyword|WARNING/i.test(kt.stdout + kt.stderr), `keepalived -t node ${n}: ${kt.status ?? kt.signal} ${kt.stdout}${kt.stderr}`)
    t.doesNotThrow(() => execFileSync('haproxy', ['-c', '-q', '-f', `${lab.dir}/n${n}/haproxy.cfg`], { stdio: 'pipe' }), `haproxy -c node ${n}`)
    t.match(execFileSync('node', [`${lab.dir}/bin/ha-agent.js`, 'config', 'check', '--config', `${lab.dir}/n${n}/config.yaml`]).toString(), /valid/)
  }
})

t.test('election settles on node 1 (priority 250)', async (t) => {
  await lab.waitForHolder('1')
  t.equal(await lab.holder(), '1', 'the VIP is on node 1 alone')
  const reported = await waitFor('both nodes reported', () => {
    const last = new Map(lab.transitions().map((x) => [x.node, x.state]))
    if (last.get('haproxy1') === 'MASTER' && last.get('haproxy2') === 'BACKUP') return last
    throw new Error(`received so far: ${lab.transitions().map((x) => `${x.node} ${x.state}`).join(', ') || 'nothing'}`)
  })
  t.same(Object.fromEntries(reported), { haproxy1: 'MASTER', haproxy2: 'BACKUP' }, 'each node reported its last transition to the webhook')
})

async function outageOf(t: Tap, name: string, fault: () => Promise<unknown>, expectHolder: string[]) {
  await new Promise((r) => setTimeout(r, 500))
  const at = Date.now()
  await fault()
  await waitFor(`VIP on ${expectHolder.join(' or ')}`, async () => (expectHolder.includes(await lab.holder()) ? true : undefined), 15_000, 20)
  await probe.waitForSuccessAfter(at)
  await new Promise((r) => setTimeout(r, 300))
  const outage = probe.outageSince(at)
  t.comment(`${name}: client-visible outage ${outage} ms`)
  return outage
}
type Tap = { comment(message: string): void }

t.test('HAProxy killed on the master: VIP to node 2, clients recover; fail-back on restart', async (t) => {
  const outage = await outageOf(t, 'HAProxy SIGKILL', () => lab.sh('kill-haproxy', '1'), ['2'])
  t.ok(outage < 3000, `outage ${outage} ms`)
  const fault = await waitFor('FAULT reported', () => lab.webhooks().find((w) => w.body.data.node === 'haproxy1' && w.body.data.state === 'FAULT'))
  t.match(fault.body.data, { instance: 'VI_1', previous_state: 'MASTER', source: 'notify' })
  await lab.sh('start-haproxy', '1')
  await lab.waitForHolder('1')
  t.equal(await lab.holder(), '1', 'node 1 took the VIP back (preempt)')
})

t.test('keepalived killed on the master: node 2 takes over, clients follow', async (t) => {
  t.teardown(() => lab.sh('start-keepalived', '1'))
  // SIGKILL of the main process usually leaves the VIP configured on node 1 while
  // node 2 claims it with gratuitous ARP ('both'; clients follow node 2); when the
  // VRRP child sees its parent die first, it removes the VIP itself ('2').
  const outage = await outageOf(t, 'keepalived SIGKILL', () => lab.sh('kill-keepalived', '1'), ['2', 'both'])
  t.ok(outage < 4000, `outage ${outage} ms`)
})

t.test('keepalived restarted on node 1 clears the stale VIP and takes it back', async (t) => {
  await lab.waitForHolder('1')
  t.equal(await lab.holder(), '1', 'node 1 alone holds the VIP again')
  const s = JSON.parse(await lab.exec(1, [`${lab.dir}/n1/ha-agent`, 'status', '--json']))
  t.match(s.instances, [{ name: 'VI_1', state: 'MASTER' }], 'and its daemon knows it is MASTER')
})

t.test("the master's link cut: VIP moves to node 2; healed, node 1 takes it back", async (t) => {
  await new Promise((r) => setTimeout(r, 500))
  const at = Date.now()
  await lab.sh('cut', '1')
  // Node 1 sees its link go down and enters FAULT (VIP removed): '2'. Were its
  // carrier to stay up, it would keep the VIP on its side of the cut: 'both'.
  await waitFor('VIP on node 2', async () => (['2', 'both'].includes(await lab.holder()) ? true : undefined), 15_000, 20)
  await probe.waitForSuccessAfter(at)
  await new Promise((r) => setTimeout(r, 300))
  const outage = probe.outageSince(at)
  t.comment(`link cut: client-visible outage ${outage} ms`)
  t.ok(outage < 4000, `outage ${outage} ms`)
  await lab.sh('heal', '1')
  await lab.waitForHolder('1')
  t.equal(await lab.holder(), '1', 'healed: node 2 saw the higher priority and stepped down')
})

t.test('a calm period: no transitions at all', async (t) => {
  const calmMs = Number(process.env.LAB_CALM_MS ?? 60_000)
  // Settle first: every queued event delivered (node 1's waited out its cut link)
  // and the last transition of the heal 3 s behind us.
  await waitFor('outboxes drained and 3 s without transitions', async () => {
    for (const n of [1, 2] as const) {
      const s = JSON.parse(await lab.exec(n, [`${lab.dir}/n${n}/ha-agent`, 'status', '--json']))
      if (s.outbox.pending > 0) return undefined
    }
    return Date.now() - Math.max(0, ...lab.transitions().map((x) => x.happened)) > 3000 ? true : undefined
  }, 60_000, 300)
  const from = Date.now()
  await new Promise((r) => setTimeout(r, calmMs + 1000))
  // By when they happened: events queued on node 1 while its link was cut arrive late.
  const during = lab.transitions().filter((x) => x.happened >= from && x.happened < from + calmMs)
  t.same(during, [], `no transitions in ${calmMs / 1000} s`)
  t.equal(await lab.holder(), '1')
})
