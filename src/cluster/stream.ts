// The receiving end of a peer's GET /status/stream (src/api/stream.ts): its
// /status snapshot each time it changes, a heartbeat in between. Reading it
// costs this node a TLS record a second instead of a request, an answer and a
// parse of the whole snapshot. Silence is the failure to watch for: a peer
// that is partitioned off or frozen sends no FIN, so a stream that says
// nothing for longer than `silenceMs` (the poll interval plus the poll
// timeout: what a poll would have waited) is ended as unreachable.
import { httpStream } from '../http/index.js'

export interface PeerStreamOptions {
  token?: string | undefined
  ca?: string | undefined
  /** the heartbeat asked of the peer: this node's poll_interval_ms */
  heartbeatMs: number
  /** no word for this long ends the stream: poll_interval_ms + poll_timeout_ms */
  silenceMs: number
  /** the deadline for the peer's answer (status line and headers): poll_timeout_ms */
  connectTimeoutMs: number
}

export interface StreamEnd {
  error: string
  /** the peer answered, but with no stream (an older ha-agent has no route): poll it, ask again later */
  unsupported?: boolean
}

export interface PeerStreamEvents {
  /** a snapshot (JSON text), the first one as soon as the stream is up */
  status(json: string): void
  /** a heartbeat */
  beat(): void
  /** once, however it ended (not after close()) */
  end(why: StreamEnd): void
}

/** The most one event may hold: a /status snapshot is a few KB. */
const MAX_EVENT_CHARS = 1 << 20

export function openPeerStream(url: string, opts: PeerStreamOptions, on: PeerStreamEvents): { close(): void } {
  let closed = false
  let silence: NodeJS.Timeout | undefined
  let pending = ''
  let ended: StreamEnd | undefined
  const finish = (why: StreamEnd) => {
    if (ended || closed) return
    ended = why
    clearTimeout(silence)
    stream.close()
    on.end(why)
  }
  const target = new URL('/status/stream', url)
  target.searchParams.set('heartbeat_ms', String(opts.heartbeatMs))
  const stream = httpStream(target.toString(), {
    headers: { accept: 'text/event-stream', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    timeoutMs: opts.connectTimeoutMs,
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    onResponse(status, headers) {
      const refuse = (why: StreamEnd) => {
        finish(why)
        return false
      }
      if (status === 401) return refuse({ error: 'HTTP 401 (the peer wants another token: cluster.token_file)' })
      // 404: a peer without the route (an ha-agent from before it); anything else that is no stream, likewise
      if (status === 404 || status === 405) return refuse({ error: `HTTP ${status}: no /status/stream`, unsupported: true })
      if (status !== 200) return refuse({ error: `HTTP ${status}`, unsupported: true })
      if (!String(headers['content-type'] ?? '').startsWith('text/event-stream')) return refuse({ error: 'the answer is no event stream', unsupported: true })
      silence = setTimeout(() => finish({ error: `no word on the push stream within ${opts.silenceMs} ms` }), opts.silenceMs)
      return true
    },
    onData(chunk) {
      silence?.refresh()
      pending += chunk
      let cut: number
      while ((cut = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, cut)
        pending = pending.slice(cut + 2)
        if (block.startsWith(':')) on.beat()
        else {
          const data = eventData(block, 'status')
          if (data !== undefined) on.status(data)
        }
        if (ended || closed) return
      }
      if (pending.length > MAX_EVENT_CHARS) finish({ error: `an event longer than ${MAX_EVENT_CHARS} characters` })
    },
    onEnd(err) {
      const e = err as (NodeJS.ErrnoException & { code?: string }) | null
      finish({ error: e ? (e.code && e.code !== 'HA_ERR_TIMEOUT' ? e.code : e.message) : 'the peer closed the push stream' })
    },
  })
  return {
    close() {
      closed = true
      clearTimeout(silence)
      stream.close()
    },
  }
}

/** The data of an event of type `type` (its data: lines joined), or undefined for another type. */
export function eventData(block: string, type: string): string | undefined {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5))
  }
  return event === type && data.length ? data.join('\n') : undefined
}
