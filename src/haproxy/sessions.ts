// The frontends' sessions, sampled as fast as HAProxy answers: a switchover
// picks its instant by them (daemon/idle-instant.ts). One held connection in
// prompt mode (as the watch holds one), `show stat -1 1 -1` (frontends only) on
// it again and again: ~0.15 ms a sample here, against ~0.4 ms and a new socket
// on both ends for a connection per command. `level user` serves it.
import { connect, type Socket } from 'node:net'
import { parseShowStat } from './runtime-api.js'

export interface SessionSample {
  /** sessions open now, summed over the frontends that serve clients */
  scur: number
  /** sessions ever opened, summed the same way: a new one moves it */
  stot: number
}

export interface SessionSampler {
  /** one sample; rejects when HAProxy does not answer within the sampler's timeout */
  sample(): Promise<SessionSample>
  close(): void
}

/**
 * Which frontends count: those named (checks.haproxy.frontends), else every
 * frontend that is not `mode http` (the stats page is one; the clients' are tcp).
 */
export function sumSessions(csv: string, frontends?: readonly string[]): SessionSample {
  const rows = parseShowStat(csv).filter((r) => r.svname === 'FRONTEND' && (frontends ? frontends.includes(r.pxname) : r.mode !== 'http'))
  return { scur: rows.reduce((a, r) => a + (Number(r.scur) || 0), 0), stot: rows.reduce((a, r) => a + (Number(r.stot) || 0), 0) }
}

export function openSessionSampler(opts: { socket: string; timeoutMs: number; frontends?: readonly string[] }): SessionSampler {
  let conn: Socket | undefined = connect(opts.socket)
  conn.setEncoding('utf8')
  let buffered = ''
  let failed: Error | undefined
  let waiter: { resolve(answer: string): void; reject(err: Error): void } | undefined
  // The first command waits for the answer to "prompt", so that no answer starts with it.
  let promptAnswered!: () => void
  const ready = new Promise<void>((r) => (promptAnswered = r))
  let prompted = false
  const fail = (err: Error) => {
    failed ??= err
    prompted = true
    promptAnswered()
    waiter?.reject(failed)
    waiter = undefined
    conn?.destroy()
    conn = undefined
  }
  conn.on('data', (chunk: string) => {
    buffered += chunk
    // In prompt mode every answer ends with the "> " prompt.
    if (!buffered.endsWith('> ')) return
    const answer = buffered
    buffered = ''
    if (!prompted) {
      prompted = true // the prompt's own answer to "prompt"
      promptAnswered()
      return
    }
    const w = waiter
    waiter = undefined
    w?.resolve(answer.slice(0, -2))
  })
  conn.on('error', (err: NodeJS.ErrnoException) => fail(new Error(`HAProxy socket ${opts.socket}: ${err.code ?? err.message}`)))
  conn.on('close', () => fail(new Error(`HAProxy closed the runtime API connection (${opts.socket})`)))
  conn.write('prompt\n')
  const promptTimer = setTimeout(() => fail(new Error(`HAProxy socket ${opts.socket}: no answer to "prompt" within ${opts.timeoutMs} ms`)), opts.timeoutMs)
  void ready.then(() => clearTimeout(promptTimer))

  const ask = async (command: string) => {
    await ready
    return new Promise<string>((resolve, reject) => {
      if (failed || !conn) return reject(failed ?? new Error('closed'))
      const timer = setTimeout(() => fail(new Error(`HAProxy socket ${opts.socket}: no answer to "${command}" within ${opts.timeoutMs} ms`)), opts.timeoutMs)
      waiter = {
        resolve: (a) => (clearTimeout(timer), resolve(a)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      }
      conn.write(command + '\n')
    })
  }

  return {
    async sample() {
      return sumSessions(await ask('show stat -1 1 -1'), opts.frontends)
    },
    close() {
      const c = conn
      conn = undefined
      failed ??= new Error('closed')
      waiter = undefined
      if (c) {
        c.removeAllListeners()
        c.on('error', () => {})
        c.end('quit\n')
        c.destroy()
      }
    },
  }
}
