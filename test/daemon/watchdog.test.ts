// The watchdog sidecar against real processes: one whose event loop stands
// still is killed; one that exits normally takes its sidecar with it.
import t from 'tap'
import { spawn } from 'node:child_process'

const WATCHDOG = new URL('../../src/daemon/watchdog.ts', import.meta.url).href

function child(body: string, journal = false) {
  const script = `import(${JSON.stringify(WATCHDOG)}).then(({ startWatchdog }) => { globalThis.w = startWatchdog({ timeoutMs: 800, journal: ${journal}, logger: { error: console.error } }); console.log('armed'); ${body} })`
  const c = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  c.stdout.on('data', (d) => (out += d))
  c.stderr.on('data', (d) => (out += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => c.on('exit', (code, signal) => r({ code, signal })))
  return { c, exited, out: () => out }
}

t.test('an event loop that stands still is killed after the timeout, with a fatal line', async (t) => {
  const started = Date.now()
  const p = child(`setTimeout(() => { const end = Date.now() + 30000; while (Date.now() < end); }, 200)`)
  const { signal } = await p.exited
  const ms = Date.now() - started
  t.equal(signal, 'SIGKILL')
  t.ok(ms < 10_000, `killed after ${ms} ms`)
  t.match(p.out(), /"level":"fatal".*event loop stood still for 800 ms/)
})

t.test('under journald the fatal line carries its priority, <2> (crit), as the logger\'s lines do', async (t) => {
  const p = child(`setTimeout(() => { const end = Date.now() + 30000; while (Date.now() < end); }, 200)`, true)
  t.equal((await p.exited).signal, 'SIGKILL')
  t.match(p.out(), /^<2>\{"level":"fatal".*event loop stood still/m)
})

t.test('a frozen process (SIGSTOP) is killed too: the sidecar is not frozen with it', async (t) => {
  const p = child(`setInterval(() => {}, 1000)`)
  while (!p.out().includes('armed')) await new Promise((r) => setTimeout(r, 20))
  p.c.kill('SIGSTOP')
  const { signal } = await p.exited
  t.equal(signal, 'SIGKILL')
})

t.test('a busy but turning event loop is left alone; a normal exit ends the sidecar quietly', async (t) => {
  const p = child(`let n = 0; const i = setInterval(() => { const end = Date.now() + 100; while (Date.now() < end); if (++n === 20) { clearInterval(i); globalThis.w.stop() } }, 10)`)
  const { code, signal } = await p.exited
  t.same([code, signal], [0, null])
  t.notMatch(p.out(), /fatal/)
})
