// When to hand the VIP over, so that no client query fails. Moving the VIP
// breaks every connection open on this node at that instant (the client's next
// packet reaches the peer, which answers RST), and a client SYN sent in the few
// ms before the client hears the peer's gratuitous ARP is lost and resent only
// after 1 s. Measured in the lab with a client opening a connection every 20 ms:
// switching at a random instant failed a query or cost a 1 s gap about half the
// time; switching right after a session ended failed none. So HAProxy's
// frontends are sampled as fast as they answer (haproxy/sessions.ts) and the
// instant is:
// - "idle": a session just closed and none opened since the last sample (a
//   client that connects now and then has just finished: its next connection is
//   furthest away; one that connects at a steady pace must leave MIN_IDLE_AHEAD_MS
//   before its next connection), or
// - "quiet": nothing opened or closed for QUIET_MS (no traffic, or only
//   long-lived sessions, which break whenever the VIP moves), or
// - "busy": the deadline passed (steady traffic: switch anyway, and say so), or
// - "unknown": HAProxy does not answer (the sessions cannot be seen).
import type { AgentConfig } from '../config/index.js'
import { openSessionSampler, type SessionSample } from '../haproxy/index.js'

export const IDLE_WAIT_MS = 500
export const QUIET_MS = 50
/**
 * A client that connects at a steady pace (the lab's probe, a cron job, a health
 * check) comes back one period after its last connection began: an idle instant
 * is taken only when that leaves this long before the next one (the track_file
 * write to keepalived dropping the VIP took ~5-8 ms in the lab), unless the wait
 * is nearly over.
 */
export const MIN_IDLE_AHEAD_MS = 12
/** how long the pace may take to show before an idle instant is taken without it */
export const LEARN_MS = 100

export type InstantKind = 'idle' | 'quiet' | 'busy' | 'unknown'

export interface Instant {
  kind: InstantKind
  waitedMs: number
  samples: number
  /** the sample the instant was picked on */
  last?: SessionSample
  /** why the sessions could not be seen */
  error?: string
}

export interface InstantOptions {
  sample(): Promise<SessionSample>
  now?: () => number
  maxWaitMs?: number
  quietMs?: number
  minIdleAheadMs?: number
  learnMs?: number
}

/** The pace of the sessions opened: the median of the last intervals between opens (three at least). */
function pace(opens: readonly number[]): number | undefined {
  if (opens.length < 4) return undefined
  const gaps = opens.slice(-9).map((t, i, a) => (i ? t - a[i - 1]! : NaN)).slice(1).sort((a, b) => a - b)
  return gaps[Math.floor(gaps.length / 2)]
}

export async function pickInstant(opts: InstantOptions): Promise<Instant> {
  const now = opts.now ?? Date.now
  const maxWait = opts.maxWaitMs ?? IDLE_WAIT_MS
  const quiet = opts.quietMs ?? QUIET_MS
  const start = now()
  const ahead = opts.minIdleAheadMs ?? MIN_IDLE_AHEAD_MS
  const learn = opts.learnMs ?? LEARN_MS
  let samples = 0
  let prev: SessionSample | undefined
  let changedAt = start
  const opens: number[] = []
  for (;;) {
    let s: SessionSample
    try {
      s = await opts.sample()
      samples++
    } catch (err) {
      return { kind: 'unknown', waitedMs: now() - start, samples, error: (err as Error).message }
    }
    const t = now()
    if (prev) {
      const opened = s.stot !== prev.stot
      if (opened) opens.push(t)
      if (!opened && s.scur < prev.scur) {
        // The pace is learnt over the first LEARN_MS (a client every 20 ms shows it in ~80 ms).
        const p = pace(opens)
        const nextIn = p === undefined ? (t - start >= learn ? Infinity : 0) : opens.at(-1)! + p - t
        if (nextIn >= ahead || t - start >= maxWait * 0.8) return { kind: 'idle', waitedMs: t - start, samples, last: s }
      }
      if (opened || s.scur !== prev.scur) changedAt = t
      else if (t - changedAt >= quiet) return { kind: 'quiet', waitedMs: t - start, samples, last: s }
    }
    if (t - start >= maxWait) return { kind: 'busy', waitedMs: t - start, samples, last: s }
    prev = s
  }
}

export function describeInstant(i: Instant): string {
  switch (i.kind) {
    case 'idle':
      return `right after a client session ended (waited ${i.waitedMs} ms)`
    case 'quiet':
      return `no session opened or closed for ${QUIET_MS} ms (waited ${i.waitedMs} ms, ${i.last?.scur ?? 0} open)`
    case 'busy':
      return `sessions kept opening for ${i.waitedMs} ms: switched anyway (${i.last?.scur ?? 0} open were cut)`
    case 'unknown':
      return `the sessions could not be read (${i.error ?? 'no answer'}): switched at once`
  }
}

/** The instant for this node's HAProxy (checks.haproxy), on a connection held for the wait. */
export async function pickHandoverInstant(config: AgentConfig): Promise<Instant> {
  const h = config.checks.haproxy
  if (!h) return { kind: 'unknown', waitedMs: 0, samples: 0, error: 'checks.haproxy is not configured' }
  const sampler = openSessionSampler({ socket: h.socket, timeoutMs: 200, ...(h.frontends ? { frontends: h.frontends } : {}) })
  try {
    return await pickInstant({ sample: () => sampler.sample() })
  } finally {
    sampler.close()
  }
}
