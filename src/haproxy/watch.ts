// The daemon's fast HAProxy detector, feeding keepalived's track_file.
// Polling `show info` every 100 ms would cost up to 100 ms of detection; a held
// interactive CLI connection ("prompt" mode) is closed by the kernel the moment
// HAProxy dies, so we see it within milliseconds. We still send a command every
// interval: it keeps HAProxy's `stats timeout` from closing the idle connection
// and catches a process that is alive but no longer answers.
//
// The first command is `show info`: its "Pid:" line proves the socket is
// HAProxy's runtime API. After that, `show version` (~20 bytes back) does the
// same job as `show info` (~1.2 KB): measured on HAProxy 2.6 over 5000 probes,
// ~40 instead of 60-110 us of CPU here and ~20 instead of 40-80 us in HAProxy.
// An empty line is no cheaper: HAProxy 2.6 answers it with "Unknown command"
// and the whole help text (~7 KB). An HAProxy without `show version` (before
// 2.4?) says "Unknown command" to it too: the watch then goes back to `show info`.
import { connect, type Socket } from 'node:net'

export interface HaproxyWatchState {
  /** false until the first verdict ("not checked yet") */
  up: boolean
  detail: string
  /** ms epoch of the last change */
  since: number
}

export interface HaproxyWatchOptions {
  socket: string
  intervalMs: number
  /** an answer slower than this counts as HAProxy gone */
  timeoutMs: number
  onChange(up: boolean, detail: string): void
  now?: () => number
}

export interface HaproxyWatch {
  current(): HaproxyWatchState
  /**
   * Sends `command` on the held connection and resolves with its answer (the
   * daemon's HAProxy check, so that a round pays no connection of its own and
   * the keep-alive is not needed in a second it was used); undefined when no
   * connection answers now (the caller connects by itself). A late answer is
   * a rejection for the caller only: the watch's own deadline decides whether
   * HAProxy is gone.
   */
  ask(command: string, timeoutMs: number): Promise<string> | undefined
  stop(): void
}

interface Ask {
  command: string
  /** `;`-separated commands: in prompt mode each answer ends with its own prompt */
  prompts: number
  resolve(answer: string): void
  reject(err: Error): void
  timer?: NodeJS.Timeout
  /** given up on by its caller: its answer is read and dropped */
  abandoned?: boolean
}

export function createHaproxyWatch(opts: HaproxyWatchOptions): HaproxyWatch {
  const now = opts.now ?? Date.now
  // Unknown until the first answer or failure; that first verdict fires onChange too.
  let state: HaproxyWatchState = { up: false, detail: 'not checked yet', since: now() }
  let known = false
  let conn: Socket | undefined
  let waitingSince: number | undefined
  let buffered = ''
  let probe = 'show version'
  let asked: 'info' | 'probe' | Ask = 'info'
  /** asks waiting for the connection (one command at a time in prompt mode) */
  const queue: Ask[] = []
  let lastSentAt = 0
  let stopped = false
  let retry: NodeJS.Timeout | undefined

  const set = (up: boolean, detail: string) => {
    const changed = !known || up !== state.up
    known = true
    state = { up, detail, since: changed ? now() : state.since }
    if (changed) opts.onChange(up, detail)
  }

  /** Lets go of the connection without hearing from it again. */
  const closeConn = () => {
    if (!conn) return
    conn.removeAllListeners()
    conn.on('error', () => {})
    conn.destroy()
    conn = undefined
  }

  const failAsks = (detail: string) => {
    const all = [...queue, ...(typeof asked === 'object' ? [asked] : [])]
    queue.length = 0
    if (typeof asked === 'object') asked = 'probe'
    for (const a of all) settle(a, new Error(detail))
  }
  const settle = (a: Ask, err: Error | null, answer = '') => {
    clearTimeout(a.timer)
    if (a.abandoned) return
    a.abandoned = true
    if (err) a.reject(err)
    else a.resolve(answer)
  }
  const send = (command: string, what: typeof asked) => {
    waitingSince = lastSentAt = now()
    asked = what
    conn!.write(`${command}\n`)
  }
  /** the next queued ask, if the connection is free */
  const next = () => {
    if (!conn || conn.connecting || waitingSince !== undefined || !known || !state.up) return
    const a = queue.shift()
    if (a) send(a.command, a)
  }

  const drop = (detail: string) => {
    closeConn()
    waitingSince = undefined
    buffered = ''
    failAsks(detail)
    set(false, detail)
  }

  const open = () => {
    if (stopped || conn) return
    const c = connect(opts.socket)
    conn = c
    // A connect that never completes (a wedged HAProxy's full accept backlog) is
    // bounded by the same answer deadline as a command.
    waitingSince = now()
    c.setEncoding('utf8')
    c.on('connect', () => {
      c.write('prompt\nshow info\n')
      asked = 'info'
      waitingSince = now()
    })
    c.on('data', (chunk: string) => {
      buffered += chunk
      // In prompt mode every answer ends with the "> " prompt.
      if (!buffered.endsWith('\n> ')) return
      if (typeof asked === 'object' && asked.prompts > 1 && countPrompts(buffered) < asked.prompts) return
      const answer = buffered
      buffered = ''
      waitingSince = undefined
      if (answer.trim() === '>') return // the prompt's own answer to "prompt"
      if (typeof asked === 'object') {
        const a = asked
        asked = 'probe'
        // as HAProxy answers outside prompt mode: each command's output, then an empty line
        settle(a, null, answer.split('\n> ', a.prompts).map((part) => `${part}\n`).join(''))
        next()
        return
      }
      if (asked === 'info') {
        if (/^Pid: \d+/m.test(answer)) set(true, 'runtime API answers')
        else drop(`unexpected answer from ${opts.socket}`)
      } else if (/^Unknown command/m.test(answer)) {
        probe = 'show info' // an older HAProxy: the costlier command does the same job
      } else if (!/^\d+\.\d+/.test(answer)) {
        drop(`unexpected answer from ${opts.socket}`)
      }
      next()
    })
    c.on('close', () => {
      if (conn === c) drop(`HAProxy closed the runtime API connection (${opts.socket})`)
    })
    c.on('error', (err: NodeJS.ErrnoException) => {
      if (conn !== c) return
      // A held connection reset (HAProxy killed while a command of ours sat
      // unread in its socket) is HAProxy closing it, as a plain close is.
      const reset = !c.connecting && (err.code === 'ECONNRESET' || err.code === 'EPIPE')
      drop(reset ? `HAProxy closed the runtime API connection (${opts.socket}: ${err.code})` : `HAProxy socket ${opts.socket}: ${err.code ?? err.message}`)
    })
  }

  const tick = () => {
    if (stopped) return
    if (!conn) return open()
    if (waitingSince !== undefined) {
      if (now() - waitingSince > opts.timeoutMs) drop(`HAProxy did not answer within ${opts.timeoutMs} ms`)
      return
    }
    // A command sent within the interval (a check round's) kept the connection busy already.
    if (conn.writable && !conn.connecting && now() - lastSentAt >= opts.intervalMs - 50) send(probe, probe === 'show info' ? 'info' : 'probe')
  }

  retry = setInterval(tick, opts.intervalMs)
  retry.unref()
  open()

  return {
    current: () => state,
    ask(command, timeoutMs) {
      if (stopped || !conn || conn.connecting || !known || !state.up) return undefined
      return new Promise<string>((resolve, reject) => {
        const a: Ask = { command, prompts: command.split(';').length, resolve, reject }
        a.timer = setTimeout(() => settle(a, new Error(`HAProxy socket ${opts.socket}: no answer to "${command}" within ${timeoutMs} ms`)), timeoutMs)
        queue.push(a)
        next()
      })
    },
    stop() {
      stopped = true
      clearInterval(retry)
      closeConn()
      failAsks('the HAProxy watch stopped')
    },
  }
}

/** How many prompts ("\n> ") an answer in prompt mode holds. */
function countPrompts(text: string): number {
  let n = 0
  for (let at = text.indexOf('\n> '); at >= 0; at = text.indexOf('\n> ', at + 3)) n++
  return n
}
