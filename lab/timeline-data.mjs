// What one lab failover left behind (each node's ha-agent log, the webhook
// receiver's file, the client probe's), read once into plain data: the text
// timeline (timeline.mjs) and the drawing (timeline-svg.mjs) are two views of it.
import { existsSync, readFileSync } from 'node:fs'

/**
 * @typedef {{ state: string, from: number, to?: number, instance?: string }} StateSpan
 * @typedef {{ at: number, label: string, level?: string, detail?: string }} Marker
 * @typedef {{ name: string, states: StateSpan[], events: Marker[] }} NodeLane
 * @typedef {{ t: number, done: number, ok: boolean, error?: string }} Query
 * @typedef {{
 *   title?: string,
 *   fault?: { at: number, label: string },
 *   nodes?: NodeLane[],
 *   webhooks?: Marker[],
 *   queries?: Query[],
 *   vip?: { at: number, from?: string, to: string, seen?: string },
 *   gap?: { from: number, to: number },
 *   end?: number,
 * }} TimelineData
 *   times in ms since the epoch; end: nothing later was recorded (the drawing stops there)
 */

/** @param {string} file @returns {any[]} the file's JSON lines; a torn or missing line is skipped */
export function readJsonLines(file) {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
    try {
      return [JSON.parse(l)]
    } catch {
      return []
    }
  })
}

/** The agent log lines a failover is told by, as short labels; everything else at info is noise here. */
function agentLabel(l) {
  switch (l.msg) {
    case 'HAProxy gone': return 'HAProxy gone'
    case 'HAProxy runtime API answers': return 'HAProxy answers'
    case 'local fault: track_file set to 1': return 'track_file 1'
    case 'track_file set to 0': return 'track_file 0'
    case 'check.failed':
    case 'check.recovered': return `${l.msg} ${l.check ?? ''}`.trim()
    // the daemon recording keepalived's notify (the webhook carries the fork time)
    case 'VRRP transition': return `notify ${l.state ?? ''}`.trim()
  }
  return l.level === 'warn' || l.level === 'error' || l.level === 'fatal' ? String(l.msg).slice(0, 32) : null
}

/**
 * keepalived's states of one node as spans, from its vrrp.transition events in
 * time order: each state lasts until the next transition (the last one is open).
 * @param {{ at: number, state: string, instance?: string }[]} transitions
 * @returns {StateSpan[]}
 */
export function stateSpans(transitions) {
  const sorted = [...transitions].sort((a, b) => a.at - b.at)
  return sorted.map((x, i) => ({ state: x.state, from: x.at, ...(sorted[i + 1] ? { to: sorted[i + 1].at } : {}), ...(x.instance ? { instance: x.instance } : {}) }))
}

/**
 * The client-visible gap: the longest time between two successful queries that
 * ended from `since` on (the README's and the bench's outage).
 * @param {Query[]} queries
 * @returns {{ from: number, to: number } | undefined}
 */
export function longestGap(queries, since) {
  const oks = queries.filter((q) => q.ok && q.done >= since).map((q) => q.done).sort((a, b) => a - b)
  let gap
  for (let i = 1; i < oks.length; i++) if (!gap || oks[i] - oks[i - 1] > gap.to - gap.from) gap = { from: oks[i - 1], to: oks[i] }
  return gap
}

/**
 * @param {{ dir: string, faultMs: number, faultLabel?: string, title?: string, failed: string, other: string,
 *   vipMs?: number, probeFile?: string, gapSince?: number, until?: number }} o
 *   failed/other: the lab's node numbers; until: ignore what came later (the bench's next run)
 * @returns {TimelineData}
 */
export function readTimeline(o) {
  const until = o.until ?? Infinity
  const inRun = (at) => Number.isFinite(at) && at <= until
  const hooks = readJsonLines(`${o.dir}/webhooks.jsonl`).filter((h) => h?.body && typeof h.body === 'object' && h.body.data)
  const nodes = [o.failed, o.other].map((n) => {
    // the lab names node N haproxyN (keepalived/ha-agent.yaml's node: @NODE@)
    const mine = hooks.filter((h) => /(\d+)$/.exec(String(h.body.data.node))?.[1] === String(n))
    const transitions = mine.filter((h) => h.body.type === 'vrrp.transition').map((h) => ({ at: Date.parse(h.body.timestamp), state: String(h.body.data.state), instance: h.body.data.instance })).filter((x) => inRun(x.at))
    const events = readJsonLines(`${o.dir}/n${n}/agent.log`).flatMap((l) => {
      const label = agentLabel(l)
      const at = Date.parse(l.time)
      return label && inRun(at) ? [{ at, label, level: l.level, ...(l.detail ? { detail: String(l.detail) } : {}) }] : []
    })
    return { name: `node ${n}`, states: stateSpans(transitions), events }
  })
  const webhooks = hooks.filter((h) => inRun(h.at)).map((h) => {
    const d = h.body.data
    const what = h.body.type === 'vrrp.transition' ? d.state : `${h.body.type} ${d.check ?? ''}`.trim()
    return { at: h.at, label: `${what} (${d.node})`, detail: h.body.type }
  })
  const queries = readJsonLines(o.probeFile ?? `${o.dir}/probe.jsonl`).filter((q) => Number.isFinite(q.t) && Number.isFinite(q.done) && q.done <= until)
  const gap = longestGap(queries, o.gapSince ?? o.faultMs - 2000)
  // without a poller's time (the bench), keepalived adds the VIP as it becomes MASTER
  const master = nodes[1].states.find((s) => s.state === 'MASTER' && s.from >= o.faultMs)
  const vip = Number.isFinite(o.vipMs)
    ? { at: /** @type {number} */ (o.vipMs), from: `node ${o.failed}`, to: `node ${o.other}`, seen: 'polled' }
    : master && { at: master.from, from: `node ${o.failed}`, to: `node ${o.other}`, seen: 'keepalived MASTER' }
  return {
    title: o.title ?? `HAProxy killed on node ${o.failed}, the VRRP master`,
    fault: { at: o.faultMs, label: o.faultLabel ?? `HAProxy on node ${o.failed} killed (SIGKILL)` },
    nodes,
    webhooks,
    queries,
    ...(vip ? { vip } : {}),
    ...(gap ? { gap } : {}),
    ...(Number.isFinite(until) ? { end: until } : {}),
  }
}

/**
 * The text timeline's lines, ms after the fault, from the same data.
 * @param {TimelineData} d
 * @returns {{ ms: number, what: string }[]}
 */
export function textEvents(d) {
  const fault = d.fault?.at ?? NaN
  const from = fault - 5 // what the text shows: from the fault on
  const events = []
  const add = (at, what) => { if (Number.isFinite(at) && at >= from) events.push({ ms: at - fault, what }) }
  add(fault, d.fault?.label ?? 'fault')
  for (const n of d.nodes ?? []) {
    for (const e of n.events) add(e.at, `ha-agent on ${n.name}: ${e.label}${e.detail ? ` (${e.detail})` : ''}`)
    for (const s of n.states) add(s.from, `keepalived on ${n.name}: ${s.instance ?? ''} -> ${s.state} (notify forked, 10 ms ticks)`)
  }
  for (const w of d.webhooks ?? []) add(w.at, `webhook received: ${w.label.startsWith(`${w.detail}`) ? w.label : `${w.detail} ${w.label}`}`)
  if (d.vip) add(d.vip.at, `VIP present on ${d.vip.to}${d.vip.seen === 'polled' ? '' : ` (${d.vip.seen})`}`)
  const queries = d.queries ?? []
  const firstFailed = queries.find((q) => !q.ok && q.t >= fault - 100)
  if (firstFailed) add(firstFailed.done, `client: first failed query (${firstFailed.error})`)
  const okAfter = queries.find((q) => q.ok && q.t >= fault)
  if (okAfter) add(okAfter.done, 'client: first successful query through the VIP after the fault')
  return events.sort((a, b) => a.ms - b.ms)
}

/** @param {TimelineData} d */
export function failedQueries(d) {
  const fault = d.fault?.at ?? NaN
  return (d.queries ?? []).filter((q) => !q.ok && q.t >= fault - 100).length
}
