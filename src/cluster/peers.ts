import { timingSafeEqual } from 'node:crypto'
import type { Logger } from '../log/index.js'
import { redactUrl } from '../config/redact.js'
import { httpCall, HttpTimeoutError } from '../http/index.js'

export interface PeerView {
  /** the peer's URL as it may be shown: scheme://host:port/… */
  url: string
  reachable: boolean
  node?: string
  healthy?: boolean
  instances?: Array<{ name: string; state: string; priority: number | null; since: string }>
  checks?: Array<{ name: string; status: 'pass' | 'fail'; detail: string }>
  /** the peer's own track_file fault */
  fault?: boolean
  error?: string
  last_seen?: string
}

export interface PollOptions {
  timeoutMs: number
  /** bearer token for the peer's API */
  token?: string | undefined
  /** PEM CA certificate(s) for an https:// peer (cluster.ca_file) */
  ca?: string | undefined
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
    })
    if (res.status === 401) return { url: shown, reachable: false, error: 'HTTP 401 (the peer wants another token: cluster.token_file)' }
    if (res.status !== 200) return { url: shown, reachable: false, error: `HTTP ${res.status}` }
    const s = JSON.parse(res.body) as Record<string, any>
    return {
      url: shown,
      reachable: true,
      node: String(s.node),
      healthy: Boolean(s.healthy),
      instances: Array.isArray(s.instances) ? s.instances : [],
      checks: Array.isArray(s.checks) ? s.checks.map((c: any) => ({ name: c.name, status: c.status, detail: c.detail })) : [],
      fault: Boolean(s.track_file?.fault),
      last_seen: new Date().toISOString(),
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { url: shown, reachable: false, error: e instanceof HttpTimeoutError ? e.message : e instanceof SyntaxError ? 'not a JSON answer' : (e.code ?? e.message) }
  }
}

/** Constant-time bearer token check (the API, when a token is configured). */
export function checkBearer(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '')
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

export type { Logger }
