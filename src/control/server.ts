import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { dirname } from 'node:path'
import type { ControlRequest, ControlResponse } from './protocol.js'
import { parseControlRequest } from './requests.js'

const MAX_REQUEST_BYTES = 64 * 1024

/** One JSON line in, one JSON line out, then close. A stale socket file is replaced. */
export async function startControlServer(opts: {
  path: string
  handle(req: ControlRequest): Promise<ControlResponse>
  /** a client that sends nothing is dropped after this */
  idleMs?: number
}): Promise<{ close(): Promise<void> }> {
  mkdirSync(dirname(opts.path), { recursive: true, mode: 0o750 })
  rmSync(opts.path, { force: true })
  const server: Server = createServer((conn) => {
    let buf = ''
    conn.setEncoding('utf8')
    conn.setTimeout(opts.idleMs ?? 5000, () => conn.destroy())
    conn.on('error', () => {})
    const answer = (res: ControlResponse) => conn.end(JSON.stringify(res) + '\n')
    conn.on('data', (chunk: string) => {
      buf += chunk
      if (buf.length > MAX_REQUEST_BYTES) return answer({ ok: false, error: 'request too large' })
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      conn.pause()
      // A request is in: the handler has its own deadline (a switchover may take seconds).
      conn.setTimeout(0)
      let value: unknown
      try {
        value = JSON.parse(buf.slice(0, nl))
      } catch {
        return answer({ ok: false, error: 'request is not JSON' })
      }
      const parsed = parseControlRequest(value)
      if (!parsed.ok) return answer({ ok: false, error: parsed.error })
      opts.handle(parsed.request).then(answer, (err: Error) => answer({ ok: false, error: err.message }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.path, () => resolve())
  })
  chmodSync(opts.path, 0o660)
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        rmSync(opts.path, { force: true })
      }),
  }
}
