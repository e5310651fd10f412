// systemd learns that the daemon is ready (Type=notify) once its control socket,
// its API and the track_file hold: until then `systemctl start` waits, and units
// ordered after it (keepalived) wait too. Node.js cannot send the sd_notify
// datagram itself (no AF_UNIX datagrams without a native addon, which would make
// the package Architecture: any), so systemd-notify sends it: one process at
// start, none in the steady state. It waits for systemd to have read the message
// (its default since v246), which with NotifyAccess=all is what makes a message
// from a child count.
import { execFile } from 'node:child_process'
import type { Logger } from '../log/index.js'

export function notifySystemdReady(env: Record<string, string | undefined>, status: string, logger: Logger): Promise<void> {
  if (!env.NOTIFY_SOCKET) return Promise.resolve()
  return new Promise((resolve) => {
    execFile('systemd-notify', ['--ready', `--pid=${process.pid}`, `--status=${status}`], { env: { ...env }, timeout: 5000 }, (err) => {
      if (err) logger.error({ err: err.message }, 'cannot tell systemd that the daemon is ready (systemd-notify)')
      resolve()
    })
  })
}
