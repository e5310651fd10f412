// A small HTTP client on node:http/https. Node's fetch (undici) costs ~10 MB of
// heap and noticeably more CPU per request; the daemon makes a request every
// second forever (peers) and one per event (webhooks), so it uses this instead.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { TimeoutError } from '../errors/index.js'
import { withDeadline } from '../net/with-deadline.js'

export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface HttpCallOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  timeoutMs: number
  signal?: AbortSignal
  maxBodyBytes?: number
  /** a keep-alive agent (keepAliveAgent()) to reuse connections; by default one connection per request */
  agent?: HttpAgent
  /** PEM CA certificate(s) an https:// server's certificate must chain to, instead of Node's bundled CAs */
  ca?: string
}

/**
 * A keep-alive agent for one host polled again and again (peers): one connection,
 * reused, closed by us after idleMs (keep it below the server's keep-alive
 * timeout, 72 s for fastify, 5 s for a bare node:http server, so that the server
 * never closes a connection we are about to reuse). A request that times out
 * destroys its connection; the next one opens a new one.
 */
export function keepAliveAgent(url: string, idleMs = 4000): HttpAgent {
  const o = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: idleMs }
  return new URL(url).protocol === 'https:' ? new HttpsAgent(o) : new HttpAgent(o)
}

/** One request with a hard deadline covering connect, send and the whole answer. */
export async function httpCall(url: string, opts: HttpCallOptions): Promise<HttpResponse> {
  const deadline = Date.now() + opts.timeoutMs
  try {
    return await attempt(url, opts)
  } catch (err) {
    // A kept-alive connection the server closed while it sat idle (a race the idle
    // timeout makes rare): once more on a new connection, within the same deadline.
    const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean }
    if (!e.reusedSocket || !['ECONNRESET', 'EPIPE'].includes(e.code ?? '') || Date.now() >= deadline) throw err
    return attempt(url, { ...opts, timeoutMs: deadline - Date.now() })
  }
}

function attempt(url: string, opts: HttpCallOptions): Promise<HttpResponse> {
  const u = new URL(url)
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest
  const deadline = {
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    timedOut: () => new TimeoutError(`no answer within ${opts.timeoutMs} ms`, opts.timeoutMs),
    aborted: () => new Error('aborted'),
  }
  return withDeadline<HttpResponse>(deadline, (finish) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body))
    // Certificates are always verified (rejectUnauthorized stays true): with a CA
    // file, against it alone.
    const tls = u.protocol === 'https:' && opts.ca !== undefined ? { ca: opts.ca } : {}
    const req = request(u, { method: opts.method ?? 'GET', headers, agent: opts.agent ?? false, ...tls }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size <= (opts.maxBodyBytes ?? 1 << 20)) chunks.push(c)
      })
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', (e) => finish(e))
    })
    req.on('error', (e: NodeJS.ErrnoException) => finish(Object.assign(e, { reusedSocket: req.reusedSocket })))
    req.end(opts.body)
    // After an answer a kept-alive connection goes back to its agent; after a failure it is destroyed.
    return (err) => {
      if (err) req.destroy()
    }
  })
}

export interface HttpStreamOptions {
  headers?: Record<string, string>
  /** the deadline for the answer's status line and headers; after them, the caller watches the body (a silence limit) */
  timeoutMs: number
  ca?: string
  /** the status and headers: return false to end the stream there (not the answer hoped for) */
  onResponse(status: number, headers: IncomingHttpHeaders): boolean
  onData(chunk: string): void
  /** once, however it ends: the server closed it, an error, the deadline, or close() */
  onEnd(err: Error | null): void
}

export interface HttpStream {
  /** ends the stream (onEnd(null) if it had not ended) */
  close(): void
}

/**
 * A GET whose answer is read as it comes, on a connection of its own (a server
 * that pushes: /status/stream). The deadline covers connect, TLS and headers.
 */
export function httpStream(url: string, opts: HttpStreamOptions): HttpStream {
  const u = new URL(url)
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest
  let ended = false
  const end = (err: Error | null) => {
    if (ended) return
    ended = true
    clearTimeout(timer)
    req.destroy()
    opts.onEnd(err)
  }
  const tls = u.protocol === 'https:' && opts.ca !== undefined ? { ca: opts.ca } : {}
  const req = request(u, { method: 'GET', headers: { ...opts.headers }, agent: false, ...tls }, (res) => {
    clearTimeout(timer)
    if (!opts.onResponse(res.statusCode ?? 0, res.headers)) return end(null)
    res.setEncoding('utf8')
    res.on('data', (c: string) => !ended && opts.onData(c))
    res.on('end', () => end(null))
    res.on('error', (e) => end(e))
    res.on('close', () => end(null))
  })
  const timer = setTimeout(() => end(new TimeoutError(`no answer within ${opts.timeoutMs} ms`, opts.timeoutMs)), opts.timeoutMs)
  req.on('error', (e) => end(e))
  req.on('socket', (s) => s.setNoDelay(true))
  req.end()
  return { close: () => end(null) }
}
