// A daemon whose event loop stands still (an infinite loop, a synchronous call
// that never returns, SIGSTOP) answers nobody, and keepalived's view of the node
// goes stale. systemd's WatchdogSec= would restart it, but needs sd_notify
// datagrams, which Node.js cannot send without a native addon (an arch-specific
// package) or a process per ping. So the watchdog is a tiny bash sidecar,
// started once: the event loop writes it a byte every timeoutMs/4; when none
// comes for timeoutMs, it writes a fatal log line and SIGKILLs the daemon, and
// systemd (Restart=on-failure) starts it again. It spawns nothing after start
// (`read -t` and `kill` are bash builtins), and it is not frozen along with the
// daemon (a worker thread would be, under SIGSTOP). When the daemon exits, the
// pipe closes and the sidecar exits quietly.
import { spawn, type ChildProcess } from 'node:child_process'
import { syslogPriority, type Logger } from '../log/index.js'

const SCRIPT = [
  'while :; do read -r -t "$1" -n 1 _; s=$?; [ $s -eq 0 ] || break; done',
  // read returns > 128 on a timeout, 1 at end of file (the daemon went away)
  '[ $s -gt 128 ] || exit 0',
  'printf "%s\\n" "$2"',
  'kill -KILL "$3"',
].join('\n')

export interface Watchdog {
  stop(): void
}

export interface WatchdogOptions {
  timeoutMs: number
  logger: Logger
  /** stdout is the journal: the fatal line starts with <2> (crit), as the logger's lines carry theirs */
  journal?: boolean
  bash?: string
  pid?: number
  fatalLine?: string
}

export function startWatchdog(opts: WatchdogOptions): Watchdog {
  const pid = opts.pid ?? process.pid
  const line =
    (opts.journal ? `<${syslogPriority(60)}>` : '') +
    (opts.fatalLine ??
      JSON.stringify({ level: 'fatal', pid, msg: `watchdog: the event loop stood still for ${opts.timeoutMs} ms; killing the daemon so that systemd restarts it` }))
  let child: ChildProcess | undefined = spawn(opts.bash ?? 'bash', ['-c', SCRIPT, 'ha-agent-watchdog', String(opts.timeoutMs / 1000), line, String(pid)], {
    stdio: ['pipe', 'inherit', 'inherit'],
  })
  child.on('error', (err) => opts.logger.error({ err }, 'watchdog sidecar failed to start: no watchdog'))
  child.stdin!.on('error', () => {})
  const beat = setInterval(() => child?.stdin?.write('.'), Math.max(100, Math.floor(opts.timeoutMs / 4)))
  beat.unref()
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void }).unref?.()
  return {
    stop() {
      clearInterval(beat)
      child?.stdin?.end()
      child = undefined
    },
  }
}
