#!/usr/bin/env node
// Prints what happened after a fault injected at KILL_MS: from ha-agent's log,
// the webhook receiver, the VIP poller and the client probe. All times are ms
// after the kill. With --svg PATH it also draws it (timeline-svg.mjs) from the
// same data. Usage: timeline.mjs LAB_DIR KILL_MS FAILED_NODE OTHER_NODE VIP_MOVED_MS [--json] [--svg PATH]
import { writeFileSync } from 'node:fs'
import { failedQueries, readTimeline, textEvents } from './timeline-data.mjs'

const args = process.argv.slice(2)
const svgAt = args.indexOf('--svg')
const svgPath = svgAt >= 0 ? args.splice(svgAt, 2)[1] : undefined
if (svgAt >= 0 && !svgPath) {
  console.error('timeline: --svg needs a PATH')
  process.exit(2)
}
const [dir, killArg, failed, other, vipArg, flag] = args
const data = readTimeline({ dir, faultMs: Number(killArg), failed, other, vipMs: Number(vipArg) })
const events = textEvents(data)
const outage = data.gap ? data.gap.to - data.gap.from : 0
if (flag === '--json') {
  console.log(JSON.stringify({ events, outage_ms: outage, failed_queries: failedQueries(data) }))
} else {
  console.log('\n  ms after kill   what')
  for (const e of events) console.log(`  ${String(Math.round(e.ms)).padStart(12)}   ${e.what}`)
  console.log(`\nclient-visible outage (longest gap between successful queries, one every ~50 ms): ${outage} ms; failed queries: ${failedQueries(data)}`)
}
if (svgPath) {
  // lazily: the text alone does not need the renderer
  const { renderTimelineSvg } = await import('./timeline-svg.mjs')
  writeFileSync(svgPath, renderTimelineSvg(data))
}
