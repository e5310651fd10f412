// A small HTTP client on node:http/https. Node's fetch (undici) costs ~10 MB of
// heap and noticeably more CPU per request; the daemon makes a request every
// second forever (peers) and one per event (webhooks), so it uses this instead.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export class HttpTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
    this.name = 'HttpTimeoutError'
  }
}

/** One request with a hard deadline covering connect, send and the whole answer. */
export function httpCall(
  url: string,
  opts: {
    method?: string
    headers?: Record<string, string>
    body?: string
    timeoutMs: number
    signal?: AbortSignal
    maxBodyBytes?: number
    /** PEM CA certificate(s) an https:// server's certificate must chain to, instead of Node's bundled CAs */
    ca?: string
  },
): Promise<HttpResponse> {
  const u = new URL(url)
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    let settled = false
    const finish = (err: Error | null, res?: HttpResponse) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      if (err) {
        req.destroy()
        reject(err)
      } else resolve(res!)
    }
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body))
    // Certificates are always verified (rejectUnauthorized stays true): with a CA
    // file, against it alone.
    const tls = u.protocol === 'https:' && opts.ca !== undefined ? { ca: opts.ca } : {}
    const req = request(u, { method: opts.method ?? 'GET', headers, agent: false, ...tls }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size <= (opts.maxBodyBytes ?? 1 << 20)) chunks.push(c)
      })
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', (e) => finish(e))
    })
    const timer = setTimeout(() => finish(new HttpTimeoutError(opts.timeoutMs)), opts.timeoutMs)
    const onAbort = () => finish(new Error('aborted'))
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', (e: NodeJS.ErrnoException) => finish(e))
    req.end(opts.body)
  })
}
