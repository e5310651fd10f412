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
//   furthest away), or
// - "quiet": nothing opened or closed for QUIET_MS (no traffic, or only
//   long-lived sessions, which break whenever the VIP moves), or
// - "busy": the deadline passed (steady traffic: switch anyway, and say so), or
// - "unknown": HAProxy does not answer (the sessions cannot be seen).
import type { AgentConfig } from '../config/index.js'
import { openSessionSampler, type SessionSample } from '../haproxy/index.js'

export const IDLE_WAIT_MS = 500
export const QUIET_MS = 50

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
}

export async function pickInstant(opts: InstantOptions): Promise<Instant> {
  const now = opts.now ?? Date.now
  const maxWait = opts.maxWaitMs ?? IDLE_WAIT_MS
  const quiet = opts.quietMs ?? QUIET_MS
  const start = now()
  let samples = 0
  let prev: SessionSample | undefined
  let changedAt = start
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
      if (!opened && s.scur < prev.scur) return { kind: 'idle', waitedMs: t - start, samples, last: s }
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
