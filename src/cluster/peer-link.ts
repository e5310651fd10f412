// One peer, as this node hears it: the peer pushes its /status snapshot on a
// held stream (stream.ts) whenever it changes, with a heartbeat in between,
// and this node polls it in full only every `full_poll_interval_ms`, as proof
// of life and of consistency. While the stream is not up (the peer restarts,
// is partitioned off, is an older ha-agent without /status/stream, or
// `cluster.push` is false) the polls run every `poll_interval_ms`, as they
// always did. A poll is also what hurry() asks for: a relative fault confirms
// on a word from the peer that began after it appeared, and only a request
// gives that (a heartbeat may have left before).
import type { Agent } from 'node:http'
import type { AgentConfig } from '../config/index.js'
import { keepAliveAgent } from '../http/index.js'
import type { Logger } from '../log/index.js'
import { redactUrl } from '../redact/index.js'
import { startRoundLoop, type RoundLoop } from '../rounds/index.js'
import { pollPeer, viewFromStatus, type PeerView } from './peers.js'
import { openPeerStream, type StreamEnd } from './stream.js'

/** How soon a stream that was up is opened again after it ended (a peer restarting comes back within a second or two). */
const RECONNECT_MS = 100

export interface PeerLinkOptions {
  url: string
  settings: AgentConfig['cluster']
  logger: Logger
  token(): string | undefined
  ca(): string | undefined
  /** a word from the peer changed what this node knows of it, or a poll ended */
  changed(how: 'poll' | 'push' | 'beat'): void
  now?: () => number
}

export class PeerLink {
  /** what this node knows of the peer: the object stays while only last_seen moves (heartbeats) */
  view: PeerView
  /** when the last completed poll began (0: none yet) */
  polledFrom = 0
  private readonly shown: string
  private readonly now: () => number
  private readonly agent: Agent
  private readonly loop: RoundLoop
  private stream: { close(): void } | undefined
  /** the stream has delivered a snapshot and has not ended since */
  private live = false
  /** when the stream last said anything */
  private heardAt = 0
  /** the peer's last pushed view (a heartbeat after a failed poll restores it) */
  private pushed: PeerView | undefined
  private unsupportedAt: number | undefined
  private retry: NodeJS.Timeout | undefined
  private stopped = false

  constructor(private readonly opts: PeerLinkOptions) {
    this.now = opts.now ?? Date.now
    this.shown = redactUrl(opts.url)
    this.view = { url: this.shown, reachable: false, error: 'not polled yet' }
    // One kept connection for the polls; it outlives the slow interval between them (fastify keeps an idle one 72 s).
    this.agent = keepAliveAgent(opts.url, Math.min(45_000, opts.settings.full_poll_interval_ms + 5000))
    this.connect()
    this.loop = startRoundLoop({
      round: () => this.poll(),
      delay: () => (this.live ? opts.settings.full_poll_interval_ms : opts.settings.poll_interval_ms),
      onError: (err) => opts.logger.error({ err, peer: this.shown }, 'peer poll failed'),
    })
  }

  /** the next poll within fastMs */
  hurry(fastMs: number): void {
    this.loop.hurry(fastMs)
  }

  /** the stream is up (the peer pushes) */
  pushing(): boolean {
    return this.live
  }

  stop(): void {
    this.stopped = true
    this.loop.stop()
    clearTimeout(this.retry)
    this.stream?.close()
    this.stream = undefined
    this.agent.destroy()
  }

  private async poll(): Promise<void> {
    const s = this.opts.settings
    const startedAt = this.now()
    const v = await pollPeer(this.opts.url, { timeoutMs: s.poll_timeout_ms, token: this.opts.token(), ca: this.opts.ca(), agent: this.agent })
    if (this.stopped) return
    this.polledFrom = startedAt
    // The stream spoke while the request was out: its word is the newer one.
    if (!(this.live && this.heardAt > startedAt)) this.view = v
    if (v.reachable) this.connect()
    this.opts.changed('poll')
  }

  private connect(): void {
    const s = this.opts.settings
    if (this.stopped || !s.push || this.stream) return
    if (this.unsupportedAt !== undefined && this.now() - this.unsupportedAt < s.full_poll_interval_ms) return
    clearTimeout(this.retry)
    this.stream = openPeerStream(
      this.opts.url,
      { token: this.opts.token(), ca: this.opts.ca(), heartbeatMs: s.poll_interval_ms, silenceMs: s.poll_interval_ms + s.poll_timeout_ms, connectTimeoutMs: s.poll_timeout_ms },
      {
        status: (json) => {
          const v = viewFromStatus(this.shown, json, new Date(this.now()))
          if (!v.reachable) return this.ended({ error: `push stream: ${v.error}` })
          this.heardAt = this.now()
          this.live = true
          this.unsupportedAt = undefined
          this.pushed = v
          this.view = v
          this.opts.changed('push')
        },
        beat: () => {
          this.heardAt = this.now()
          if (!this.live || !this.pushed) return
          if (this.view.reachable) {
            this.view.last_seen = new Date(this.heardAt).toISOString()
            this.opts.changed('beat')
          } else {
            this.view = this.pushed = { ...this.pushed, last_seen: new Date(this.heardAt).toISOString() }
            this.opts.changed('push')
          }
        },
        end: (why) => this.ended(why),
      },
    )
  }

  private ended(why: StreamEnd): void {
    const wasLive = this.live
    this.stream?.close()
    this.stream = undefined
    this.live = false
    this.pushed = undefined
    if (this.stopped) return
    if (why.unsupported) {
      if (this.unsupportedAt === undefined) this.opts.logger.info({ peer: this.shown, reason: why.error }, 'the peer pushes no state (an older ha-agent?): polling it')
      this.unsupportedAt = this.now()
    }
    if (!wasLive) return // the polls speak for the peer meanwhile
    // A stream that goes quiet or away is the peer lost, as a failed poll was: say so now, poll at the usual interval.
    this.view = { url: this.shown, reachable: false, error: why.error }
    this.opts.changed('push')
    this.loop.hurry(0)
    this.retry = setTimeout(() => this.connect(), RECONNECT_MS)
    this.retry.unref()
  }
}
