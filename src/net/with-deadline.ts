// The settling of one request over the network, by its deadline at the latest:
// the first of the answer, an error, the deadline and the caller's abort wins,
// and whichever it is, the timer and the abort listener go and the request is
// let go of. net/exchange.ts (sockets) and http/client.ts (HTTP) differ in what
// they send and how they read; this is what they share.

export interface Deadline {
  timeoutMs: number
  signal?: AbortSignal | undefined
  /** the error when the deadline passes */
  timedOut(): Error
  /** the error when the signal aborts (also when it had before the start: nothing is sent then) */
  aborted(): Error
}

/** Lets go of the request (destroys its socket); `err` is null after an answer. */
export type Release = (err: Error | null) => void

/**
 * Runs `start` (which sends the request and returns its Release) under the
 * deadline; `start` calls `finish` with the answer or an error. Later calls
 * to `finish` are ignored.
 */
export function withDeadline<T>(d: Deadline, start: (finish: (err: Error | null, value?: T) => void) => Release): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (d.signal?.aborted) return reject(d.aborted())
    let outcome: { err: Error | null } | undefined
    let release: Release | undefined
    const finish = (err: Error | null, value?: T) => {
      if (outcome) return
      outcome = { err }
      clearTimeout(timer)
      d.signal?.removeEventListener('abort', onAbort)
      release?.(err)
      if (err) reject(err)
      else resolve(value as T)
    }
    const onAbort = () => finish(d.aborted())
    const timer = setTimeout(() => finish(d.timedOut()), d.timeoutMs)
    d.signal?.addEventListener('abort', onAbort, { once: true })
    release = start(finish)
    // settled while starting (an error thrown at once): let go now
    if (outcome) release(outcome.err)
  })
}
