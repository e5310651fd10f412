import { timingSafeEqual } from 'node:crypto'
import type { Logger } from '../log/index.js'
import type { Agent } from 'node:http'
import { redactUrl } from '../redact/index.js'
import { z } from 'zod'
import { hasCode } from '../errors/index.js'
import { httpCall } from '../http/index.js'

export interface PeerView {
  /** the peer's URL as it may be shown: scheme://host:port/… */
  url: string
  reachable: boolean
  node?: string
  healthy?: boolean
  instances?: Array<{ name: string; state: string; priority: number | null; since: string }>
  /** checked_at: when the peer's round began, on the peer's clock (absent from an older peer) */
  checks?: Array<{ name: string; status: 'pass' | 'fail'; detail: string; checked_at?: string }>
  /** the peer's own track_file fault */
  fault?: boolean
  /** the peer's HAProxy watch: its runtime API answers (undefined: the peer does not say) */
  haproxy_up?: boolean
  /** the peer's keepalived runs (null: it cannot tell) */
  keepalived_up?: boolean | null
  /** the peer is in maintenance (`ha-agent maintenance on`) */
  maintenance?: { on: boolean; since: string | null; reason: string | null }
  /** the peer runs with the yield of a switchover (priority lowered) */
  yielding?: boolean
  error?: string
  last_seen?: string
}

/** The part of a peer's GET /status (contract section 4) this node acts on. */
const peerStatusSchema = z.object({
  node: z.string().min(1),
  healthy: z.boolean(),
  instances: z.array(z.object({ name: z.string(), state: z.string(), priority: z.number().nullable(), since: z.string() })),
  checks: z.array(
    z
      .object({ name: z.string(), status: z.enum(['pass', 'fail']), detail: z.string(), checked_at: z.string().optional() })
      .transform((c) => ({ name: c.name, status: c.status, detail: c.detail, ...(c.checked_at ? { checked_at: c.checked_at } : {}) })),
  ),
  track_file: z.object({ fault: z.boolean() }).nullable().optional(),
  // what a switchover or maintenance asks of the peer; absent from a peer older than them
  haproxy_watch: z.object({ up: z.boolean() }).nullable().optional(),
  keepalived: z.object({ up: z.boolean().nullable() }).optional(),
  maintenance: z.object({ on: z.boolean(), since: z.string().nullable(), reason: z.string().nullable() }).optional(),
  yielding: z.boolean().optional(),
})

export interface PollOptions {
  timeoutMs: number
  /** bearer token for the peer's API */
  token?: string | undefined
  /** PEM CA certificate(s) for an https:// peer (cluster.ca_file) */
  ca?: string | undefined
  /** a keep-alive agent: the polls of one peer on one kept connection */
  agent?: Agent | undefined
}

/**
 * A peer's view from its /status snapshot (JSON text), polled or pushed: what
 * it says decides FAULTs here (relative health) and split brain, so it is
 * parsed, never trusted as it comes.
 */
export function viewFromStatus(shown: string, text: string, now = new Date()): PeerView {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { url: shown, reachable: false, error: 'not a JSON answer' }
  }
  const parsed = peerStatusSchema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    return { url: shown, reachable: false, error: `not an ha-agent /status: ${issue.path.join('.') || 'body'}: ${issue.message}` }
  }
  const s = parsed.data
  return {
    url: shown,
    reachable: true,
    node: s.node,
    healthy: s.healthy,
    instances: s.instances,
    checks: s.checks,
    fault: s.track_file?.fault ?? false,
    ...(s.haproxy_watch ? { haproxy_up: s.haproxy_watch.up } : {}),
    ...(s.keepalived ? { keepalived_up: s.keepalived.up } : {}),
    ...(s.maintenance ? { maintenance: s.maintenance } : {}),
    ...(s.yielding !== undefined ? { yielding: s.yielding } : {}),
    last_seen: now.toISOString(),
  }
}

/**
 * GET <peer>/status with a hard deadline; never throws. The view names the peer
 * by `redactUrl(url)` (scheme://host:port/…): it goes to /status, logs, events
 * and `ha-agent status`, and a peer URL's path or query may hold a secret.
 */
export async function pollPeer(url: string, opts: PollOptions): Promise<PeerView> {
  const shown = redactUrl(url)
  try {
    const res = await httpCall(new URL('/status', url).toString(), {
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      timeoutMs: opts.timeoutMs,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.agent ? { agent: opts.agent } : {}),
    })
    if (res.status === 401) return { url: shown, reachable: false, error: 'HTTP 401 (the peer wants another token: cluster.token_file)' }
    if (res.status !== 200) return { url: shown, reachable: false, error: `HTTP ${res.status}` }
    return viewFromStatus(shown, res.body)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { url: shown, reachable: false, error: hasCode(err, 'HA_ERR_TIMEOUT') ? e.message : (e.code ?? e.message) }
  }
}

/** Constant-time bearer token check (the API, when a token is configured). */
export function checkBearer(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '')
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

export type { Logger }
