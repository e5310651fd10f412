// Draws a failover (timeline-data.mjs's TimelineData) as a standalone SVG: per
// node keepalived's states and ha-agent's events, the webhooks received, the VIP
// holder and the client's queries on one time axis, ms after the fault, with the
// client-visible gap shaded. Pure: data in, a string out, no dependencies.

/** @typedef {import('./timeline-data.mjs').TimelineData} TimelineData */
/** @typedef {import('./timeline-data.mjs').Marker} Marker */

export const WIDTH = 1000
const X0 = 150 // plot area: lane names live left of it
const X1 = 980
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif'
export const COLORS = Object.freeze({
  MASTER: '#2563eb', BACKUP: '#cbd5e1', FAULT: '#f97316', STOP: '#475569', DELETED: '#1e293b', other: '#e5e7eb',
  ok: '#16a34a', failed: '#dc2626', gap: '#fef3c7', gapEdge: '#d97706', fault: '#b91c1c', vip: '#ede9fe', vipEdge: '#7c3aed',
  warn: '#b45309', info: '#334155', grid: '#e2e8f0', text: '#0f172a', muted: '#64748b',
})
const DARK_TEXT = new Set(['BACKUP', 'other'])

/** @param {unknown} s */
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)
const num = (x) => Math.round(x * 10) / 10
/** a rough width of DejaVu Sans text, enough to keep labels from overlapping */
const textWidth = (s, size) => String(s).length * size * 0.62
const text = (x, y, s, a = '') => `<text x="${num(x)}" y="${num(y)}"${a ? ` ${a}` : ''}>${esc(s)}</text>`
const fin = (x) => typeof x === 'number' && Number.isFinite(x)

/** A step giving at most ~10 ticks over `span` ms. */
function tickStep(span) {
  for (const s of [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000]) if (span / s <= 10) return s
  return Math.ceil(span / 10 / 60000) * 60000
}

/**
 * Greedy label rows: each label goes in the first row where it does not overlap
 * the one before it. Returns per marker its row and anchor.
 */
function layoutLabels(markers, x, size) {
  const rowsEnd = []
  return markers.map((m) => {
    const w = textWidth(m.label, size) + 6
    const px = x(m.at)
    const right = px + 3 + w <= WIDTH - 4 // else the label hangs left of its marker
    const [lo, hi] = right ? [px, px + 3 + w] : [px - 3 - w, px]
    let row = rowsEnd.findIndex((end) => end < lo)
    if (row < 0) row = rowsEnd.push(hi) - 1
    else rowsEnd[row] = hi
    return { m, px, row, right }
  })
}

/**
 * One panel: the lanes over the window [from, to] (absolute ms), `zero` the fault.
 * @param {TimelineData} d @param {{ from: number, to: number, top: number, title: string, labelled: (m: Marker) => boolean, mark?: number[], times?: boolean }} p
 * @returns {{ svg: string, height: number }}
 */
function panel(d, zero, p) {
  const { from, to } = p
  const x = (t) => X0 + ((Math.min(Math.max(t, from), to) - from) / (to - from)) * (X1 - X0)
  const inWin = (t) => fin(t) && t >= from && t <= to
  // the zoom writes each time down: tens of ms are hard to read off an axis
  const when = (t) => (p.times && t >= from ? ` ${t >= zero ? '+' : ''}${Math.round(t - zero)} ms` : '')
  const out = []
  const back = [] // drawn first: the gap band and the grid lie under the lanes
  let y = p.top
  out.push(text(8, y + 12, p.title, `font-size="13" font-weight="bold" fill="${COLORS.text}"`))
  y += 48 // room for the fault's and the gap's labels
  const lanesTop = y
  const laneName = (name, h) => out.push(text(X0 - 8, y + h / 2 + 4, name, `font-size="11" text-anchor="end" fill="${COLORS.text}"`))
  const noData = (h, what) => out.push(text(X0 + 6, y + h / 2 + 4, what, `font-size="11" font-style="italic" fill="${COLORS.muted}"`))

  const markerLane = (name, markers, cls) => {
    const shown = markers.filter((m) => inWin(m.at)).sort((a, b) => a.at - b.at).map((m) => ({ ...m, label: `${m.label}${when(m.at)}` }))
    const laid = layoutLabels(shown.filter(p.labelled), x, 10).concat(shown.filter((m) => !p.labelled(m)).map((m) => ({ m, px: x(m.at), row: -1, right: true })))
    const rows = Math.max(0, ...laid.map((l) => l.row + 1))
    const h = Math.max(20, 14 + rows * 12)
    laneName(name, 14)
    if (!shown.length) noData(14, markers.length ? 'none in this window' : 'no data: none recorded')
    const labels = []
    for (const { m, px, row, right } of laid) {
      const color = m.level === 'warn' || m.level === 'error' || m.level === 'fatal' ? COLORS.warn : COLORS.info
      out.push(`<path class="${cls}" data-ms="${num(m.at - zero)}" d="M${num(px - 4)} ${y + 2}h8l-4 7z" fill="${color}"><title>${esc(`${m.label}${m.detail ? ` (${m.detail})` : ''}: ${num(m.at - zero)} ms`)}</title></path>`)
      if (row < 0) continue
      const ly = y + 20 + row * 12
      out.push(`<line x1="${num(px)}" y1="${y + 9}" x2="${num(px)}" y2="${ly - 3}" stroke="${color}" stroke-width="0.75"/>`)
      // a white halo, over every leader line: a later marker's leader runs down through the rows above its label
      labels.push(text(right ? px + 3 : px - 3, ly, m.label, `font-size="10" fill="${color}" stroke="#fff" stroke-width="3" paint-order="stroke"${right ? '' : ' text-anchor="end"'}`))
    }
    out.push(...labels)
    y += h + 6
  }

  for (const n of d.nodes ?? []) {
    laneName(`${n.name} keepalived`, 20)
    const spans = (n.states ?? []).filter((s) => fin(s.from) && (s.to ?? Infinity) >= from && s.from <= to)
    if (!spans.length) noData(20, n.states?.length ? 'no state in this window' : 'no data: no vrrp.transition received')
    for (const s of spans) {
      const sx = x(s.from)
      const w = Math.max(1, x(s.to ?? to) - sx)
      const fill = COLORS[s.state] ?? COLORS.other
      out.push(`<rect class="state state-${esc(s.state)}" data-node="${esc(n.name)}" data-from="${num(s.from - zero)}" data-to="${fin(s.to) ? num(s.to - zero) : 'open'}" x="${num(sx)}" y="${y}" width="${num(w)}" height="20" fill="${fill}" stroke="#fff" stroke-width="0.5"><title>${esc(`${n.name}: ${s.state} from ${num(s.from - zero)} ms`)}</title></rect>`)
      const label = `${s.state}${when(s.from)}`
      if (w > textWidth(label, 10) + 6) out.push(text(sx + 4, y + 14, label, `font-size="10" font-weight="bold" fill="${DARK_TEXT.has(s.state) || !COLORS[s.state] ? COLORS.text : '#fff'}"`))
    }
    y += 26
    markerLane(`${n.name} ha-agent`, n.events ?? [], 'agent-event')
  }
  markerLane('webhooks received', d.webhooks ?? [], 'webhook')

  laneName('VIP holder', 18)
  if (d.vip && fin(d.vip.at)) {
    const vx = x(d.vip.at)
    const spans = [[x(from), vx, `on ${d.vip.from ?? '?'}`], [vx, X1, `on ${d.vip.to}${when(d.vip.at).replace(' ', ' from ')}`]].filter(([a, b]) => b - a > 0.5)
    for (const [a, b, label] of spans) {
      out.push(`<rect class="vip" x="${num(a)}" y="${y}" width="${num(b - a)}" height="18" fill="${COLORS.vip}" stroke="${COLORS.vipEdge}" stroke-width="0.75"/>`)
      if (b - a > textWidth(label, 10) + 8) out.push(text(a + 4, y + 13, label, `font-size="10" fill="${COLORS.vipEdge}"`))
    }
  } else noData(18, 'no data: the VIP move was not seen')
  y += 24

  laneName('client queries', 20)
  const queries = (d.queries ?? []).filter((q) => fin(q.t) && fin(q.done) && q.done >= from && q.t <= to)
  if (!queries.length) noData(20, 'no data: no queries in this window')
  for (const q of queries) {
    const qx = x(q.t)
    out.push(`<rect class="query ${q.ok ? 'query-ok' : 'query-failed'}" data-ms="${num(q.t - zero)}" x="${num(qx)}" y="${y}" width="${num(Math.max(2, x(q.done) - qx))}" height="20" fill="${q.ok ? COLORS.ok : COLORS.failed}"><title>${esc(`${num(q.t - zero)} ms: ${q.ok ? 'ok' : `failed: ${q.error ?? ''}`} (${q.done - q.t} ms)`)}</title></rect>`)
  }
  y += 26
  const lanesBottom = y - 4

  // the axis, its grid under the lanes
  const step = tickStep(to - from)
  for (let v = Math.ceil((from - zero) / step) * step; v <= to - zero; v += step) {
    const tx = x(zero + v)
    back.push(`<line x1="${num(tx)}" y1="${lanesTop}" x2="${num(tx)}" y2="${lanesBottom}" stroke="${COLORS.grid}"/>`)
    out.push(`<line x1="${num(tx)}" y1="${lanesBottom}" x2="${num(tx)}" y2="${lanesBottom + 5}" stroke="${COLORS.muted}"/>`)
    out.push(text(tx, lanesBottom + 17, v > 0 ? `+${v}` : v, `font-size="10" text-anchor="middle" fill="${COLORS.muted}"`))
  }
  out.push(`<line x1="${X0}" y1="${lanesBottom}" x2="${X1}" y2="${lanesBottom}" stroke="${COLORS.muted}"/>`)
  out.push(text(X1, lanesBottom + 31, 'ms after the fault', `font-size="10" text-anchor="end" fill="${COLORS.muted}"`))
  if (p.mark) {
    // where the zoom below sits in this panel
    const [a, b] = p.mark.map(x)
    out.push(`<path class="zoom-mark" d="M${num(a)} ${lanesBottom + 22}v4H${num(Math.max(b, a + 2))}v-4" fill="none" stroke="${COLORS.muted}"/>`, text(a, lanesBottom + 37, 'zoomed below', `font-size="10" fill="${COLORS.muted}"`))
  }

  const g = d.gap
  if (g && fin(g.from) && fin(g.to) && g.to > from && g.from < to) {
    const gx = x(g.from)
    const gw = Math.max(2, x(g.to) - gx)
    back.push(`<rect class="gap" data-from="${num(g.from - zero)}" data-to="${num(g.to - zero)}" x="${num(gx)}" y="${lanesTop - 14}" width="${num(gw)}" height="${lanesBottom - lanesTop + 14}" fill="${COLORS.gap}" stroke="${COLORS.gapEdge}" stroke-dasharray="3 2"/>`)
    const label = `client-visible gap: ${Math.round(g.to - g.from)} ms`
    const w = textWidth(label, 11)
    // right of the band, else inside it, else left of it
    const [lx, anchor] = gx + gw + 4 + w <= WIDTH - 4 ? [gx + gw + 4, 'start'] : gw > w + 8 || gx - 4 - w < 4 ? [gx + gw - 4, 'end'] : [gx - 4, 'end']
    out.push(text(lx, lanesTop - 4, label, `class="gap-label" font-size="11" font-weight="bold" text-anchor="${anchor}" fill="${COLORS.gapEdge}"`))
  }
  if (inWin(zero)) {
    const fx = x(zero)
    out.push(`<line class="fault" x1="${num(fx)}" y1="${lanesTop - 30}" x2="${num(fx)}" y2="${lanesBottom}" stroke="${COLORS.fault}" stroke-width="1.5" stroke-dasharray="5 3"/>`)
    const label = d.fault?.label ?? 'fault'
    const left = fx - 4 - textWidth(label, 11) >= 4 // else it reads rightwards from the line
    out.push(text(left ? fx - 4 : fx + 4, lanesTop - 18, label, `font-size="11" font-weight="bold" text-anchor="${left ? 'end' : 'start'}" fill="${COLORS.fault}"`))
  }
  const svg = `<g class="panel" data-from="${num(from - zero)}" data-to="${num(to - zero)}" data-x0="${X0}" data-x1="${X1}">${[...back, ...out].join('\n')}</g>`
  return { svg, height: lanesBottom + 40 - p.top }
}

function legend(y) {
  const items = [['MASTER', COLORS.MASTER], ['BACKUP', COLORS.BACKUP], ['FAULT', COLORS.FAULT], ['STOP', COLORS.STOP], ['query ok', COLORS.ok], ['query failed', COLORS.failed], ['client-visible gap', COLORS.gap], ['VIP holder', COLORS.vip]]
  let lx = 8
  const out = [text(lx, y + 10, 'legend:', `font-size="11" fill="${COLORS.muted}"`)]
  lx += 52
  for (const [label, color] of items) {
    out.push(`<rect x="${lx}" y="${y}" width="14" height="12" fill="${color}" stroke="${COLORS.muted}" stroke-width="0.5"/>`, text(lx + 18, y + 10, label, `font-size="11" fill="${COLORS.text}"`))
    lx += 30 + textWidth(label, 11)
  }
  for (const [label, color] of [['ha-agent warning', COLORS.warn], ['event', COLORS.info]]) {
    out.push(`<path d="M${num(lx)} ${y + 2}h8l-4 7z" fill="${color}"/>`, text(lx + 12, y + 10, label, `font-size="11" fill="${COLORS.text}"`))
    lx += 22 + textWidth(label, 11)
  }
  return out.join('\n')
}

const wrap = (h, body) => `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${h}" viewBox="0 0 ${WIDTH} ${h}" font-family="${FONT}">\n<rect width="100%" height="100%" fill="#fff"/>\n${body}\n</svg>\n`

/**
 * @param {TimelineData | null | undefined} d
 * @returns {string} a standalone SVG document
 */
export function renderTimelineSvg(d) {
  const title = text(8, 24, d?.title ?? 'Failover timeline', `font-size="17" font-weight="bold" fill="${COLORS.text}"`)
  const zero = d?.fault?.at
  const any = (d?.nodes ?? []).some((n) => n.states?.length || n.events?.length) || (d?.queries ?? []).length > 0
  if (!fin(zero) || !any) return wrap(90, `${title}\n${text(8, 60, `no data${fin(zero) ? '' : ' (no fault time)'}`, `class="no-data" font-size="14" font-style="italic" fill="${COLORS.muted}"`)}`)
  const data = /** @type {TimelineData} */ (d)
  const gap = data.gap && fin(data.gap.from) && fin(data.gap.to) ? data.gap : undefined
  // ~1 s before the fault to ~2 s after the client's recovery (the gap's end)
  const lastQuery = Math.max(-Infinity, ...(data.queries ?? []).map((q) => q.done).filter(fin))
  const recovery = gap && gap.to > zero ? gap.to : Math.min(fin(lastQuery) ? lastQuery : zero, zero + 8000)
  const from = zero - 1000
  const wanted = Math.max(recovery, zero) + 2000
  const to = Math.min(wanted, fin(data.end) && data.end > zero ? data.end : Infinity)
  const failed = (data.queries ?? []).filter((q) => !q.ok && q.t >= zero - 100).length
  const sub = [gap ? `client-visible gap ${Math.round(gap.to - gap.from)} ms` : 'no gap measured', `${failed} failed ${failed === 1 ? 'query' : 'queries'}`]
  if (data.vip && fin(data.vip.at)) sub.push(`VIP on ${data.vip.to} at +${Math.round(data.vip.at - zero)} ms${data.vip.seen && data.vip.seen !== 'polled' ? ` (${data.vip.seen})` : ''}`)
  sub.push(`fault at ${new Date(zero).toISOString().replace('T', ' ').replace('Z', ' UTC')}`)
  const parts = [title, text(8, 44, sub.join(' · '), `class="subtitle" font-size="12" fill="${COLORS.muted}"`)]
  // The failover itself takes tens of ms, a sliver of the whole: a second panel zooms
  // onto it, from the last query started before the fault to each node's first state
  // change and the VIP's move (within 5 s), and the client's first good query after
  // those if it came within 200 ms. The gap too, if it lies in there; a long one (a
  // SYN resent after 1 s) or one elsewhere (a slow query later on) runs off the zoom.
  const soon = (t) => fin(t) && t >= zero && t <= zero + 5000
  const moves = [...(data.nodes ?? []).map((n) => (n.states ?? []).map((s) => s.from).filter(soon).sort((a, b) => a - b)[0]), data.vip?.at].filter(soon)
  let hi = Math.max(zero, ...moves)
  const firstOk = (data.queries ?? []).find((q) => q.ok && q.t >= hi)?.done
  if (fin(firstOk) && firstOk - hi <= 200) hi = firstOk
  const gapInside = gap && gap.to > zero && gap.from <= hi && gap.to <= hi + 200
  if (gapInside) hi = Math.max(hi, gap.to)
  const before = (data.queries ?? []).filter((q) => fin(q.t) && q.t < zero).at(-1)
  const lo = Math.min(zero, before && zero - before.t < 1000 ? before.t : zero, gapInside ? gap.from : zero)
  const pad = Math.max(10, (hi - lo) * 0.15)
  const zoom = hi - lo + 2 * pad < 0.4 * (to - from)
  // the whole labels what the zoom does not show
  const inZoom = (t) => t >= lo - pad && t <= hi + pad
  let y = 60
  const whole = panel(data, zero, { from, to, top: y, title: gap && to === wanted ? '1 s before the fault to 2 s after the client recovered' : `1 s before the fault to +${Math.round(to - zero)} ms (the end of the record)`, labelled: (m) => !zoom || !inZoom(m.at), ...(zoom ? { mark: [lo - pad, hi + pad] } : {}) })
  parts.push(whole.svg)
  y += whole.height
  if (zoom) {
    const z = panel(data, zero, { from: lo - pad, to: hi + pad, top: y, title: `zoom: ${Math.round(lo - pad - zero)} to +${Math.round(hi + pad - zero)} ms after the fault`, labelled: () => true, times: true })
    parts.push(z.svg)
    y += z.height
  }
  parts.push(legend(y + 4))
  return wrap(Math.ceil(y + 26), parts.join('\n'))
}
