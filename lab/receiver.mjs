#!/usr/bin/env node
// The lab's webhook receiver: logs each request as a JSON line with its arrival time.
// Usage: receiver.mjs HOST PORT OUT_FILE
import { createServer } from 'node:http'
import { appendFileSync } from 'node:fs'

const [host, port, out] = process.argv.slice(2)
createServer((req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => {
    let json = null
    try {
      json = JSON.parse(body)
    } catch {}
    appendFileSync(out, JSON.stringify({ at: Date.now(), id: req.headers['webhook-id'] ?? null, signed: Boolean(req.headers['webhook-signature']), body: json ?? body }) + '\n')
    res.writeHead(204).end()
  })
}).listen(Number(port), host)
