// keepalived's notify_fifo: one line per transition, in order, without a process
// per transition. The FIFO is opened O_RDWR: opening never blocks waiting for a
// writer, and since we hold a write end ourselves, keepalived restarting (its
// write end closing) never gives us EOF, so no line between two keepalived
// lifetimes can fall into a reopen gap.
import { execFileSync } from 'node:child_process'
import { constants, lstatSync, openSync } from 'node:fs'
import { Socket } from 'node:net'
import { createInterface } from 'node:readline'
import type { Logger } from '../log/index.js'
import { parseFifoLine, type Transition } from './notify-args.js'

export interface NotifyFifo {
  stop(): Promise<void>
}

export function openNotifyFifo(opts: { path: string; onTransition(t: Transition): void; logger?: Logger }): NotifyFifo {
  let isFifo = false
  try {
    isFifo = lstatSync(opts.path).isFIFO()
  } catch {
    execFileSync('mkfifo', ['-m', '0600', opts.path])
    isFifo = true
  }
  if (!isFifo) throw new Error(`keepalived.notify_fifo: ${opts.path} exists and is not a FIFO`)
  // A pipe handle (not fs.createReadStream) so reads are non-blocking on the event
  // loop instead of parking a libuv threadpool thread forever.
  const fd = openSync(opts.path, constants.O_RDWR | constants.O_NONBLOCK)
  const stream = new Socket({ fd, readable: true, writable: false })
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  lines.on('line', (line) => {
    const t = parseFifoLine(line)
    if (t) opts.onTransition(t)
    else if (line.trim()) opts.logger?.debug({ line }, 'notify_fifo line ignored (not a VRRP transition)')
  })
  return {
    async stop() {
      lines.close()
      stream.destroy()
    },
  }
}
