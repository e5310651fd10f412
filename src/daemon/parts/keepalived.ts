// keepalived as the daemon sees it: the VRRP state of each instance (recorded by
// `ha-agent notify` processes and the FIFO reader in the state store) and
// whether keepalived runs at all (its VRRP process's pid file names a live
// process). A keepalived killed with SIGKILL sends no STOP: without this, the
// last state would simply stay.
import { readFileSync, watch, type FSWatcher } from 'node:fs'
import { join } from 'node:path'
import { readInstances } from '../../keepalived/index.js'
import type { DaemonContext } from '../context.js'
import type { Part } from '../lifecycle.js'
import type { CheckLoop } from './check-loop.js'

const SCAN_SAFETY_MS = 5_000
const LIVENESS_MS = 1_000

/** Counts and logs a transition once, whichever path reported it first. */
export function noteTransition(ctx: DaemonContext, instance: string, state: string, at: string, source: string): void {
  if (!ctx.state.noteTransition({ instance, state, at, source })) return
  ctx.metrics.transitions.inc({ vrrp_instance: instance, state })
  ctx.logger.info({ instance, state, source }, 'VRRP transition')
  // the VIPs moved with it (the system check's report); peers hear of it now (split brain), not at the next round
  ctx.service<CheckLoop>('check loop')?.vrrpChanged()
  ctx.decide()
}

/**
 * Whether the keepalived process named by a pid file runs: true, false, or null
 * when there is no way to tell. Signal 0 says whether the pid exists (EPERM: it
 * does, as root's); where /proc shows the process (no ProtectProc=invisible),
 * its name must be keepalived too, so that a pid file left by a SIGKILLed
 * keepalived whose pid was reused does not read as keepalived running.
 */
export function processAlive(pidFile: string, procRoot = '/proc'): { up: boolean | null; detail: string } {
  let pid: number
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim())
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { up: false, detail: `no pid file ${pidFile}` }
    return { up: null, detail: `cannot read ${pidFile} (${code})` }
  }
  if (!Number.isInteger(pid) || pid < 1) return { up: false, detail: `${pidFile} holds no pid` }
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it exists but is not ours to signal (keepalived runs as root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return { up: false, detail: `pid ${pid} (from ${pidFile}) is gone` }
  }
  let comm: string
  try {
    comm = readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim()
  } catch {
    return { up: true, detail: `pid ${pid} runs` } // hidden from this sandbox: the signal is all there is
  }
  if (comm !== 'keepalived') return { up: false, detail: `pid ${pid} (from ${pidFile}) is ${comm}, not keepalived` }
  return { up: true, detail: `pid ${pid} runs` }
}

export function keepalivedPart(ctx: DaemonContext): Part {
  return {
    name: 'keepalived',
    key: (c) => [c.state_dir, c.keepalived?.pid_file ?? null],
    async start(config) {
      for (const i of readInstances(config.state_dir)) ctx.state.knowState(i.name, i.state)
      // notify processes write the state store from their own processes: pick their changes up.
      const scan = () => {
        for (const i of readInstances(config.state_dir)) noteTransition(ctx, i.name, i.state, i.since, 'notify')
      }
      let watcher: FSWatcher | undefined
      try {
        watcher = watch(join(config.state_dir, 'vrrp'), () => scan())
        watcher.on('error', () => {})
        watcher.unref()
      } catch {
        // no vrrp/ yet: the safety scan finds the first transition
      }
      const safety = setInterval(scan, SCAN_SAFETY_MS)
      safety.unref()
      const pidFile = config.keepalived?.pid_file ?? null
      const probe = () => {
        if (!pidFile) return
        const now = processAlive(pidFile)
        if (now.up !== ctx.state.keepalived.up && ctx.state.keepalived.up !== null) {
          ctx.logger[now.up ? 'info' : 'error']({ pid_file: pidFile, detail: now.detail }, now.up ? 'keepalived runs again' : 'keepalived is not running')
        }
        ctx.state.keepalived = now
      }
      ctx.state.keepalived = pidFile ? { up: null, detail: 'not checked yet' } : { up: null, detail: 'keepalived.pid_file not set' }
      probe()
      const liveness = setInterval(probe, LIVENESS_MS)
      liveness.unref()
      return {
        async stop() {
          watcher?.close()
          clearInterval(safety)
          clearInterval(liveness)
        },
      }
    },
  }
}
