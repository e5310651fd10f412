import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { forkOrderMicros, sharedBootMicros } from '../../src/keepalived/index.js'
import { waitFor } from '../fixtures/procs.js'

t.test('the shared boot time is one number for every caller, close to the truth', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-fork-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const values = new Set(Array.from({ length: 300 }, () => sharedBootMicros(dir)))
  t.equal(values.size, 1, 'no 10 ms jitter between calls')
  const [shared] = values
  const estimate = sharedBootMicros()
  t.ok(Math.abs(shared! - estimate) < 50_000, `within 50 ms of a fresh estimate (${((shared! - estimate) / 1000).toFixed(1)} ms)`)
  t.match(readFileSync(join(dir, 'boot-clock'), 'utf8'), /^\d+ \d+\n$/)
})

t.test('forks of one shell loop are ordered as they were forked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-fork-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // Like keepalived: one parent forking children back to back.
  const sh = spawn('sh', ['-c', 'for i in $(seq 40); do sleep 30 & done; wait'], { stdio: 'ignore', detached: true })
  t.teardown(() => {
    try {
      process.kill(-sh.pid!, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  const children = await waitFor(
    '40 children',
    () => {
      const pids = readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
      return pids.length === 40 ? pids : undefined
    },
    15_000,
  )
  const wrapped = children.some((p, i) => i > 0 && p <= children[i - 1]!)
  // Computed in a shuffled order, at different moments: the result must not depend on when.
  const orders = new Map<number, number>()
  for (const pid of [...children].sort(() => Math.random() - 0.5)) {
    orders.set(pid, forkOrderMicros(pid, dir))
    await new Promise((r) => setTimeout(r, 1))
  }
  const inForkOrder = children.map((p) => orders.get(p)!)
  // PIDs wrapping around inside the loop (rare) is the one case PID order is not fork order.
  if (!wrapped) t.same([...inForkOrder].sort((a, b) => a - b), inForkOrder, 'fork order kept')
  else t.comment('PIDs wrapped around during the loop: order not checked')
  t.equal(new Set(inForkOrder).size, 40, 'all distinct')
  t.ok(Math.abs(inForkOrder[0]! / 1000 - Date.now()) < 60_000, 'a wall-clock time')
})
