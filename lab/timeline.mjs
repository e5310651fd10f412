#!/usr/bin/env node
// Prints what happened after a fault injected at KILL_MS: from ha-agent's log,
// the webhook receiver, the VIP poller and the client probe. All times are ms
// after the kill. Usage: timeline.mjs LAB_DIR KILL_MS FAILED_NODE OTHER_NODE VIP_MOVED_MS [--json]
import { readFileSync, existsSync } from 'node:fs'

const [dir, killArg, failed, other, vipArg, flag] = process.argv.slice(2)
const kill = Number(killArg)
const lines = (f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l) } catch { return null } }).filter(Boolean) : [])

const events = []
const add = (at, what) => { if (Number.isFinite(at)) events.push({ ms: at - kill, what }) }
add(kill, `HAProxy on node ${failed} killed (SIGKILL)`)

const agent = lines(`${dir}/n${failed}/agent.log`).filter((l) => Date.parse(l.time) >= kill - 5)
const gone = agent.find((l) => l.msg === 'HAProxy gone')
if (gone) add(Date.parse(gone.time), `ha-agent on node ${failed} sees HAProxy gone (${gone.detail})`)
const track = agent.find((l) => /track_file set to 1/.test(l.msg))
if (track) add(Date.parse(track.time), `ha-agent on node ${failed} writes 1 to the track_file`)

const hooks = lines(`${dir}/webhooks.jsonl`)
for (const h of hooks) {
  const b = h.body
  if (!b || typeof b !== 'object' || !b.data) continue
  const t = Date.parse(b.timestamp)
  if (t < kill - 5) continue
  if (b.type === 'vrrp.transition') add(t, `keepalived on ${b.data.node}: ${b.data.instance} -> ${b.data.state} (notify forked, 10 ms ticks)`)
  add(h.at, `webhook received: ${b.type} from ${b.data.node} ${b.data.state ?? b.data.check ?? ''}`.trim())
}
add(Number(vipArg), `VIP present on node ${other}`)

const probe = lines(`${dir}/probe.jsonl`)
const okAfter = probe.find((p) => p.ok && p.t >= kill)
const failedAfter = probe.filter((p) => !p.ok && p.t >= kill - 100)
if (failedAfter[0]) add(failedAfter[0].done, `client: first failed query (${failedAfter[0].error})`)
if (okAfter) add(okAfter.done, `client: first successful query through the VIP after the kill`)

// Client-visible outage: the longest time between two successful queries around the fault.
const oks = probe.filter((p) => p.ok && p.done >= kill - 2000).map((p) => p.done)
let outage = 0
for (let i = 1; i < oks.length; i++) outage = Math.max(outage, oks[i] - oks[i - 1])

events.sort((a, b) => a.ms - b.ms)
if (flag === '--json') {
  console.log(JSON.stringify({ events, outage_ms: outage, failed_queries: failedAfter.length }))
} else {
  console.log('\n  ms after kill   what')
  for (const e of events) console.log(`  ${String(Math.round(e.ms)).padStart(12)}   ${e.what}`)
  console.log(`\nclient-visible outage (longest gap between successful queries, one every ~50 ms): ${outage} ms; failed queries: ${failedAfter.length}`)
}
