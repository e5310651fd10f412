// A loop of rounds (the deep checks, the peer polls): each round starts a delay
// after the last one ended, so rounds never overlap and a slow one is not
// followed by a burst. hurry() asks for the next round within a shorter delay,
// as HAProxy's `fastinter` does while a server's state is changing: a round
// under way is followed by a fast one, a pending slow timer is brought forward.
// With `fastFromStart`, a fast round asked for during a round counts its delay
// from that round's start: a round that ran into its deadline is followed at
// once, a quick one after the rest of the fast delay.

export interface RoundLoop {
  /** the next round starts within fastMs of now (or of the end of the round under way) */
  hurry(fastMs: number): void
  /** no round starts after this; the one under way, if any, finishes */
  stop(): void
}

export interface RoundLoopOptions {
  round(): Promise<unknown>
  /** the delay after a round that was not hurried, read after each round (a reload may change it) */
  delay(): number
  /** a round that threw (the loop goes on) */
  onError(err: unknown): void
  /** hurry() during a round: the fast delay counts from that round's start, not its end */
  fastFromStart?: boolean
  now?: () => number
}

export function startRoundLoop(opts: RoundLoopOptions): RoundLoop {
  const now = opts.now ?? Date.now
  let stopped = false
  let inRound = false
  let hurriedMs: number | undefined
  let timer: NodeJS.Timeout | undefined
  /** when the pending round is due (ms epoch) */
  let dueAt = 0
  /** when the round under way (or the last one) began */
  let startedAt = 0

  const schedule = (delay: number) => {
    clearTimeout(timer)
    dueAt = now() + delay
    timer = setTimeout(run, delay)
    timer.unref()
  }
  const run = () => {
    if (stopped) return
    inRound = true
    startedAt = now()
    hurriedMs = undefined
    void Promise.resolve()
      .then(() => opts.round())
      .catch((err) => opts.onError(err))
      .finally(() => {
        inRound = false
        if (stopped) return
        if (hurriedMs === undefined) schedule(opts.delay())
        else schedule(opts.fastFromStart ? Math.max(0, startedAt + hurriedMs - now()) : hurriedMs)
      })
  }
  run()

  return {
    hurry(fastMs) {
      if (stopped) return
      if (inRound) hurriedMs = Math.min(fastMs, hurriedMs ?? fastMs)
      else if (dueAt - now() > fastMs) schedule(fastMs)
    },
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
