#!/usr/bin/env node
// The lab's client: one short PostgreSQL connection + SELECT 1 through the VIP
// every INTERVAL ms, each attempt logged as a JSON line {t, done, ok, error, tcp}
// (error and tcp, ms to the TCP handshake or null, on a failed attempt only).
// Stops on SIGTERM. Usage: probe.mjs HOST PORT INTERVAL_MS OUT_FILE
import pg from 'pg'
import { appendFileSync } from 'node:fs'

const [host, port = '5432', interval = '50', out] = process.argv.slice(2)
let stop = false
process.on('SIGTERM', () => (stop = true))
process.on('SIGINT', () => (stop = true))
while (!stop) {
  const started = Date.now()
  const client = new pg.Client({ host, port: Number(port), user: 'monitor', database: 'postgres', connectionTimeoutMillis: 3000, query_timeout: 3000 })
  client.on('error', () => {})
  // when the TCP handshake completed (null: never): a failed attempt without it lost its SYNs, one with it stalled or was cut later
  let tcpAt = null
  client.connection.stream.once('connect', () => (tcpAt = Date.now()))
  let line
  try {
    await client.connect()
    await client.query('SELECT 1')
    line = { t: started, done: Date.now(), ok: true }
  } catch (err) {
    line = { t: started, done: Date.now(), ok: false, error: err.code ?? err.message, tcp: tcpAt === null ? null : tcpAt - started }
  }
  client.end().catch(() => {})
  appendFileSync(out, JSON.stringify(line) + '\n')
  const wait = Number(interval) - (Date.now() - started)
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
}
