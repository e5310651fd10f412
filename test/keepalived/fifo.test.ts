import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openNotifyFifo, type Transition } from '../../src/keepalived/index.js'
import { waitFor } from '../fixtures/procs.js'

function writer(path: string, lines: string[]): Promise<void> {
  // A separate process, like keepalived: opens the FIFO, writes, closes.
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', `cat > "${path}"`], { stdio: ['pipe', 'ignore', 'inherit'] })
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exit ${code}`))))
    p.stdin.end(lines.join('\n') + '\n')
  })
}

t.test('reads every line in order across writers that come and go', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-fifo-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'notify.fifo')
  const seen: Transition[] = []
  const fifo = openNotifyFifo({ path, onTransition: (tr) => seen.push(tr) })
  t.teardown(() => fifo.stop())
  t.ok(statSync(path).isFIFO(), 'created the FIFO')
  const first = Array.from({ length: 500 }, (_, i) => `INSTANCE "VI_1" ${i % 2 ? 'MASTER' : 'BACKUP'} ${i % 256}`)
  await writer(path, first)
  // keepalived restarts: the old writer is gone, a new one opens the FIFO.
  await writer(path, ['VS [10.0.0.1]:tcp:80 UP', 'GROUP "G" FAULT'])
  await waitFor('all lines', () => seen.length === 501 || undefined, 5000)
  t.same(seen.slice(0, 500).map((s) => s.priority), first.map((_, i) => i % 256), 'none missed, order kept')
  t.same(seen[500], { kind: 'GROUP', instance: 'G', state: 'FAULT', priority: null })
})
