import t from 'tap'
import { spawn } from 'node:child_process'
import { isHaAgentNotify, NotifyOrder, notifyHoldMs } from '../../src/keepalived/index.js'
import { runningNotifies } from '../../src/keepalived/inflight.js'
import { newEventId } from '../../src/outbox/ids.js'
import { waitFor } from '../fixtures/procs.js'

t.test('what counts as an ha-agent notify process', async (t) => {
  t.ok(isHaAgentNotify(['/bin/sh', '/usr/bin/ha-agent', 'notify', 'INSTANCE', 'VI_1', 'MASTER', '250']), 'the launcher keepalived runs')
  t.ok(isHaAgentNotify(['/usr/bin/node', '--max-semi-space-size=1', '/usr/lib/ha-agent/ha-agent.js', 'notify', 'INSTANCE', 'VI_1', 'MASTER']), 'Node.js running the bundle')
  t.notOk(isHaAgentNotify(['/usr/bin/ha-agent', 'run']), 'the daemon')
  t.notOk(isHaAgentNotify(['/bin/sh', '-c', '/usr/bin/ha-agent notify INSTANCE VI_1 MASTER']), 'a shell running a command line (not yet the notify)')
  t.notOk(isHaAgentNotify(['/usr/local/bin/notify', 'x']), 'another program called notify')
  t.notOk(isHaAgentNotify(['/usr/bin/other-agent', 'notify']), 'another agent')
})

/** a scan that returns what the test says is running */
function fakeScan(running: Array<{ pid: number; orderMicros: number }>) {
  return () => running
}

t.test('earlier(): notifies forked before this one whose transitions are not recorded', async (t) => {
  const running = [
    { pid: 101, orderMicros: 1000 },
    { pid: 102, orderMicros: 2000 },
    { pid: 103, orderMicros: 3000 },
  ]
  const order = new NotifyOrder({ scan: fakeScan(running) })
  t.same(order.earlier(2500), [101, 102])
  t.same(order.earlier(1000), [], 'not itself, nothing before the first')
  order.markRecorded(101, 1000)
  t.same(order.earlier(2500), [102], 'a recorded one no longer counts while it exits')
  order.markRecorded(102, 1999)
  t.same(order.earlier(2500), [102], 'a reused pid (another fork order) still counts')
})

t.test('earlier() leaves out the asking process and its ancestors', async (t) => {
  // This process (forked before the one "asking") and its parent look like notifies here.
  const order = new NotifyOrder({ scan: fakeScan([{ pid: process.pid, orderMicros: 1 }, { pid: process.ppid, orderMicros: 2 }, { pid: 999_999_999, orderMicros: 3 }]) })
  t.same(order.earlier(10, process.pid), [999_999_999])
  t.same(order.earlier(10), [process.pid, process.ppid, 999_999_999], 'without a self, all of them')
})

t.test('settle() returns once the earlier notify is recorded, or when the budget is spent', async (t) => {
  const order = new NotifyOrder({ scan: fakeScan([{ pid: 7, orderMicros: 100 }]) })
  setTimeout(() => order.markRecorded(7, 100), 50)
  const at = Date.now()
  t.same(await order.settle(200, 0, 2000), [], 'nothing left on its way')
  const waited = Date.now() - at
  t.ok(waited >= 40 && waited < 1500, `returned after ${waited} ms, once it was recorded`)

  const stuck = new NotifyOrder({ scan: fakeScan([{ pid: 8, orderMicros: 100 }]) })
  const at2 = Date.now()
  t.same(await stuck.settle(200, 0, 100), [8], 'the one still on its way')
  t.ok(Date.now() - at2 >= 100, 'after the budget')
})

t.test('notifyHoldMs: only a recent notify transition with an earlier notify on its way waits', async (t) => {
  const now = Date.now()
  const micros = now * 1000
  const pending = new NotifyOrder({ scan: fakeScan([{ pid: 9, orderMicros: micros - 5000 }]) })
  const none = new NotifyOrder({ scan: fakeScan([]) })
  const ev = (type: string, source: string, atMicros: number) => ({ id: newEventId(atMicros), type, data: { source } })
  t.ok(notifyHoldMs(pending, ev('vrrp.transition', 'notify', micros), now) > 0, 'held while the earlier one is on its way')
  t.equal(notifyHoldMs(none, ev('vrrp.transition', 'notify', micros), now), 0, 'nothing earlier: goes at once')
  t.equal(notifyHoldMs(pending, ev('vrrp.transition', 'fifo', micros), now), 0, 'the FIFO is in order already')
  t.equal(notifyHoldMs(pending, ev('agent.heartbeat', 'notify', micros), now), 0, 'other events are not held')
  t.equal(notifyHoldMs(pending, ev('vrrp.transition', 'notify', micros - 10_000), now + 6000), 0, 'never more than 5 s after its fork')
})

t.test('runningNotifies sees a real notify process and its fork order', async (t) => {
  // A process whose command line is a notify's (sleep keeps it there): `sh -c '...' ha-agent notify`.
  const child = spawn('sh', ['-c', 'exec sleep 30', '/usr/bin/ha-agent', 'notify', 'INSTANCE', 'VI_T', 'MASTER'], { stdio: 'ignore' })
  t.teardown(() => child.kill('SIGKILL'))
  await new Promise((r) => setTimeout(r, 50))
  // `exec sleep` replaced the command line: what /proc shows is sleep's, no longer a notify.
  const after = runningNotifies().map((p) => p.pid)
  t.notOk(after.includes(child.pid!), 'a process that exec()ed something else is not a notify')

  const waiting = spawn('sh', ['-c', 'sleep 30; :', '/usr/bin/ha-agent', 'notify', 'INSTANCE', 'VI_T', 'MASTER'], { stdio: 'ignore' })
  t.teardown(() => waiting.kill('SIGKILL'))
  const found = await waitFor('the notify in /proc', () => runningNotifies().find((p) => p.pid === waiting.pid))
  t.ok(Math.abs(found.orderMicros / 1000 - Date.now()) < 5000, 'its fork order is about now')
})
