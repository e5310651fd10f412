import { timingSafeEqual } from 'node:crypto'
import type { Logger } from '../log/index.js'
import type { Agent } from 'node:http'
import { httpCall, HttpTimeoutError } from '../http/index.js'

export interface PeerView {
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

/** GET <peer>/status with a hard deadline; never throws. With a keep-alive agent, on one kept connection. */
export async function pollPeer(url: string, timeoutMs: number, token: string | undefined, agent?: Agent): Promise<PeerView> {
  try {
    const res = await httpCall(new URL('/status', url).toString(), { headers: token ? { authorization: `Bearer ${token}` } : {}, timeoutMs, ...(agent ? { agent } : {}) })
    if (res.status !== 200) return { url, reachable: false, error: `HTTP ${res.status}` }
    const s = JSON.parse(res.body) as Record<string, any>
    return {
      url,
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
    return { url, reachable: false, error: e instanceof HttpTimeoutError ? e.message : (e.code ?? e.message) }
  }
}

/** Constant-time bearer token check for the API when cluster.token_file is set. */
export function checkBearer(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '')
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

export type { Logger }
