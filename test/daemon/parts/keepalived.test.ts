// keepalived's liveness as the daemon probes it: the pid file, signal 0, and the
// process's name where /proc shows it.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processAlive } from '../../../src/daemon/parts/keepalived.js'
import { startKeepalivedStandIn, startProc, killProc } from '../../fixtures/procs.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-kalive-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('no pid file: down, naming the file', async (t) => {
  t.match(processAlive(join(dir, 'none.pid')), { up: false, detail: /no pid file .*none\.pid/ })
})

t.test('a pid file without a pid: down', async (t) => {
  writeFileSync(join(dir, 'junk.pid'), 'hello\n')
  t.match(processAlive(join(dir, 'junk.pid')), { up: false, detail: /holds no pid/ })
})

t.test('a live process called keepalived: up', async (t) => {
  const pidFile = join(dir, 'live.pid')
  const k = startKeepalivedStandIn(t, dir, pidFile)
  t.same(processAlive(pidFile), { up: true, detail: `pid ${k.child.pid} runs` })
})

t.test('its pid gone (keepalived SIGKILLed, the file left behind): down', async (t) => {
  const p = startProc(['sleep', 'infinity'])
  const pid = p.child.pid!
  await killProc(p)
  writeFileSync(join(dir, 'gone.pid'), `${pid}\n`)
  t.match(processAlive(join(dir, 'gone.pid')), { up: false, detail: new RegExp(`pid ${pid} .* is gone`) })
})

t.test('its pid reused by another program: down, naming it', async (t) => {
  writeFileSync(join(dir, 'reused.pid'), `${process.pid}\n`)
  t.match(processAlive(join(dir, 'reused.pid')), { up: false, detail: /is node, not keepalived/ })
})

t.test('hidden from the sandbox (ProtectProc=invisible): the signal decides', async (t) => {
  writeFileSync(join(dir, 'hidden.pid'), `${process.pid}\n`)
  t.same(processAlive(join(dir, 'hidden.pid'), join(dir, 'no-proc-here')), { up: true, detail: `pid ${process.pid} runs` })
})
