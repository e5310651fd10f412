// GET /status/stream: the /status snapshot pushed to a peer as server-sent
// events, instead of the peer asking every second. The whole snapshot goes
// (`event: status`), so a field added to /status reaches the peer as a poll
// would bring it, but only when it changed; in between, a comment line every
// `heartbeat_ms` (the peer's own poll interval, which it names in the query)
// says the node is alive: a peer that hears nothing for longer than its
// interval plus its timeout takes this node for unreachable.
//
// "Changed" leaves out what moves every round without meaning anything to a
// peer (a check's latency and time, when we last heard from our own peers):
// pushing those would be a poll at a higher price, and a peer's last_seen in
// both snapshots would make the two nodes push each other forever.
import type { FastifyInstance } from 'fastify'
import type { ServerResponse } from 'node:http'
import type { StatusSnapshot } from './status.js'

const VOLATILE = new Set(['latency_ms', 'checked_at', 'last_seen'])
const changeKey = (s: StatusSnapshot) => JSON.stringify(s, (k, v) => (VOLATILE.has(k) ? undefined : v))

/** The heartbeat a peer may ask for: within these bounds (its poll_interval_ms). */
export const HEARTBEAT_MIN_MS = 100
export const HEARTBEAT_MAX_MS = 60_000
export const HEARTBEAT_DEFAULT_MS = 1000

/**
 * Who is told when the snapshot changed. The daemon calls changed() after
 * every decision (check round, HAProxy watch, peer word, VRRP transition);
 * the snapshot is built and compared once per turn of the event loop, and
 * only while a peer listens.
 */
export class StatusFeed {
  private readonly listeners = new Set<(json: string) => void>()
  private lastKey = ''
  private scheduled = false

  constructor(private readonly snapshot: () => StatusSnapshot) {}

  changed(): void {
    if (!this.listeners.size || this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (!this.listeners.size) return
      const s = this.snapshot()
      const key = changeKey(s)
      if (key === this.lastKey) return
      this.lastKey = key
      const json = JSON.stringify(s)
      for (const l of this.listeners) l(json)
    })
  }

  /** Calls `listener` with each changed snapshot (JSON); returns the current one and how to stop. */
  subscribe(listener: (json: string) => void): { current: string; unsubscribe(): void } {
    const s = this.snapshot()
    this.lastKey = changeKey(s)
    this.listeners.add(listener)
    return { current: JSON.stringify(s), unsubscribe: () => void this.listeners.delete(listener) }
  }
}

/** `heartbeat_ms` from the query: what the peer asked for, within bounds. */
export function heartbeatFrom(query: unknown): number {
  const v = Number((query as Record<string, unknown> | undefined)?.heartbeat_ms)
  return Number.isFinite(v) ? Math.min(HEARTBEAT_MAX_MS, Math.max(HEARTBEAT_MIN_MS, Math.round(v))) : HEARTBEAT_DEFAULT_MS
}

/** Registers GET /status/stream (guarded like /status by the app's onRequest hook). */
export function registerStatusStream(app: FastifyInstance, feed: StatusFeed): void {
  const open = new Set<ServerResponse>()
  // A stream never ends by itself: without this, close() would wait for the peers to hang up.
  app.addHook('preClose', async () => {
    for (const res of open) res.end()
  })
  app.get('/status/stream', (req, reply) => {
    reply.hijack()
    const res = reply.raw
    const beatMs = heartbeatFrom(req.query)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-heartbeat-ms': String(beatMs) })
    res.socket?.setNoDelay(true)
    const send = (json: string) => void res.write(`event: status\ndata: ${json}\n\n`)
    const sub = feed.subscribe(send)
    send(sub.current)
    // The same bytes every time: one buffer for every heartbeat of every stream.
    const beat = setInterval(() => res.write(HEARTBEAT), beatMs)
    open.add(res)
    const done = () => {
      clearInterval(beat)
      sub.unsubscribe()
      open.delete(res)
    }
    res.on('close', done)
    res.on('error', done)
  })
}

const HEARTBEAT = Buffer.from(':\n\n')
