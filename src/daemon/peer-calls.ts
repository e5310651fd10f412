// What planned operations ask of the peers, directly and now (not the cluster
// part's last poll: a switchover acts on a view a few ms old): their /status,
// and the two POST routes of api/actions.ts, over the same https, CA and token
// as the peer polls.
import { pollPeer, type PeerView } from '../cluster/index.js'
import type { AgentConfig } from '../config/index.js'
import { httpCall } from '../http/index.js'

export interface Peer {
  /** the configured URL (never shown: it may hold a secret; `view.url` is the shown form) */
  url: string
  view: PeerView
}

export const nameOf = (p: PeerView) => p.node ?? p.url

/** Every peer's /status, polled now (each within cluster.poll_timeout_ms). */
export async function pollPeersNow(config: AgentConfig, timeoutMs = config.cluster.poll_timeout_ms): Promise<Peer[]> {
  return Promise.all(config.peers.map(async (url) => ({ url, view: await pollPeer(url, { timeoutMs, token: config.cluster.token, ca: config.cluster.ca }) })))
}

export async function pollOne(config: AgentConfig, url: string, timeoutMs: number): Promise<PeerView> {
  return pollPeer(url, { timeoutMs, token: config.cluster.token, ca: config.cluster.ca })
}

export interface PeerAnswer {
  status: number
  body: Record<string, unknown>
}

/** POST `path` on the peer with a JSON body; never throws: a failure is status 0 and the reason in body.error. */
export async function postPeer(config: AgentConfig, url: string, path: string, body: unknown, timeoutMs: number): Promise<PeerAnswer> {
  try {
    const res = await httpCall(new URL(path, url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(config.cluster.token ? { authorization: `Bearer ${config.cluster.token}` } : {}) },
      body: JSON.stringify(body),
      timeoutMs,
      ...(config.cluster.ca !== undefined ? { ca: config.cluster.ca } : {}),
    })
    let parsed: unknown
    try {
      parsed = JSON.parse(res.body)
    } catch {
      parsed = { error: `not a JSON answer (HTTP ${res.status})` }
    }
    const b = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : { error: `unexpected answer (HTTP ${res.status})` }
    return { status: res.status, body: b }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { status: 0, body: { error: e.code && e.code !== 'HA_ERR_TIMEOUT' ? e.code : e.message } }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())
