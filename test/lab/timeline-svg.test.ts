import t from 'tap'
import { readFileSync } from 'node:fs'
import { COLORS, WIDTH, renderTimelineSvg } from '../../lab/timeline-svg.mjs'
import { ZERO, demoTimeline, syntheticTimeline } from '../fixtures/timeline.js'
import { xmlProblems } from '../fixtures/xml.js'

const attr = (el: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(el)?.[1]
const elements = (svg: string, cls: string) => [...svg.matchAll(new RegExp(`<(?:rect|path|line|text)\\b[^>]*class="${cls}"[^>]*>`, 'g'))].map((m) => m[0])

/** The panels' time windows (ms after the fault) and plot extents, as the SVG states them. */
function panels(svg: string) {
  return [...svg.matchAll(/<g class="panel" data-from="([-\d.]+)" data-to="([-\d.]+)" data-x0="(\d+)" data-x1="(\d+)">([\s\S]*?)<\/g>/g)].map((m) => {
    const [from, to, x0, x1] = m.slice(1, 5).map(Number) as [number, number, number, number]
    return { from, to, body: m[5]!, x: (ms: number) => x0 + ((Math.min(Math.max(ms, from), to) - from) / (to - from)) * (x1 - x0) }
  })
}

t.test('a standalone, well-formed SVG document', async (t) => {
  for (const [name, data] of [['synthetic', syntheticTimeline()], ['demo', demoTimeline()], ['empty', {}]] as const) {
    const svg = renderTimelineSvg(data)
    t.same(xmlProblems(svg), [], `${name}: well-formed`)
    t.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="1000" height="\d+" viewBox="0 0 1000 \d+"/, `${name}: xmlns, width, height, viewBox`)
    const [, h, vh] = /height="(\d+)" viewBox="0 0 1000 (\d+)"/.exec(svg)!
    t.equal(h, vh, `${name}: height and viewBox agree`)
    t.notMatch(svg, /NaN|undefined|Infinity/, `${name}: no number went wrong`)
  }
  t.equal(WIDTH, 1000)
})

t.test('the checker itself sees what is wrong', async (t) => {
  t.same(xmlProblems('<svg><g></g></svg>'), [])
  t.match(xmlProblems('<svg><g></svg>').join(), /closes <g>/)
  t.match(xmlProblems('<svg><text>a < b</text></svg>').join(), /raw </)
  t.match(xmlProblems('<svg><text>R&D</text></svg>').join(), /raw &/)
  t.match(xmlProblems('<svg a="1" a="2"/>').join(), /repeats/)
  t.match(xmlProblems('<svg/><svg/>').join(), /2 root elements/)
})

t.test("keepalived's states come out where the data puts them", async (t) => {
  const svg = renderTimelineSvg(syntheticTimeline())
  const [whole, zoom] = panels(svg)
  t.ok(whole && zoom, 'a whole panel and a zoom onto the fault (a 114 ms gap is a sliver of 3 s)')
  t.same([whole!.from, whole!.to], [-1000, 70 + 2000], 'the whole: 1 s before the fault to 2 s after the first good query')
  for (const p of [whole!, zoom!]) {
    const fault = elements(p.body, 'state state-FAULT')
    t.equal(fault.length, 1)
    t.equal(attr(fault[0]!, 'data-node'), 'node 1')
    t.equal(attr(fault[0]!, 'data-from'), '12')
    t.equal(attr(fault[0]!, 'data-to'), 'open')
    t.equal(attr(fault[0]!, 'fill'), COLORS.FAULT)
    t.equal(Number(attr(fault[0]!, 'x')), Math.round(p.x(12) * 10) / 10, 'x at +12 ms')
    const master2 = elements(p.body, 'state state-MASTER').find((e) => attr(e, 'data-node') === 'node 2')!
    t.equal(Number(attr(master2, 'x')), Math.round(p.x(15) * 10) / 10, "node 2's MASTER at +15 ms")
    const master1 = elements(p.body, 'state state-MASTER').find((e) => attr(e, 'data-node') === 'node 1')!
    t.equal(Number(attr(master1, 'x')), Math.round(p.x(p.from) * 10) / 10, "node 1's MASTER from before the window is clipped to its start")
  }
  t.match(whole!.body, />FAULT</, 'the state is written on its span')
  t.match(zoom!.body, />FAULT \+12 ms</, '...with its time in the zoom')
})

t.test('the gap band spans the gap and says its length', async (t) => {
  const svg = renderTimelineSvg(syntheticTimeline())
  for (const p of panels(svg)) {
    const [band] = elements(p.body, 'gap')
    t.ok(band)
    t.same([attr(band!, 'data-from'), attr(band!, 'data-to')], ['-44', '70'])
    const x = Number(attr(band!, 'x'))
    t.equal(x, Math.round(p.x(-44) * 10) / 10)
    t.ok(Math.abs(x + Number(attr(band!, 'width')) - p.x(70)) < 0.2, 'ends at +70 ms')
    t.equal(attr(band!, 'fill'), COLORS.gap)
    t.match(p.body, /client-visible gap: 114 ms/)
  }
  t.match(svg, /client-visible gap 114 ms · 1 failed query · VIP on node 2 at \+16 ms/, 'the subtitle sums it up')
})

t.test('a failed query is red, a good one green, on the same axis', async (t) => {
  const [whole] = panels(renderTimelineSvg(syntheticTimeline()))
  const failed = elements(whole!.body, 'query query-failed')
  t.equal(failed.length, 1)
  t.equal(attr(failed[0]!, 'fill'), COLORS.failed)
  t.equal(Number(attr(failed[0]!, 'x')), Math.round(whole!.x(-10) * 10) / 10)
  const ok = elements(whole!.body, 'query query-ok')
  t.ok(ok.length > 40, 'a query every 50 ms over 3 s')
  t.ok(ok.every((e) => attr(e, 'fill') === COLORS.ok))
  t.ok(ok.every((e) => Number(attr(e, 'width')) >= 2), 'a 6 ms query is still visible')
})

t.test("ha-agent's events are markers with their labels", async (t) => {
  const svg = renderTimelineSvg(syntheticTimeline())
  const [whole, zoom] = panels(svg)
  t.same(elements(zoom!.body, 'agent-event').map((e) => attr(e, 'data-ms')), ['1', '10', '35'])
  t.match(zoom!.body, />HAProxy gone \+1 ms</, 'the zoom writes the times down')
  t.match(zoom!.body, />track_file 1 \+10 ms</)
  t.notMatch(whole!.body, />HAProxy gone</, 'the whole leaves what the zoom shows unlabelled')
  t.match(whole!.body, />FAULT \(haproxy1\)</, '...and labels what it does not')
  t.match(zoom!.body, />on node 2 from \+16 ms</, 'the VIP holder after the move')
  t.match(whole!.body, />on node 1</)
})

t.test('a long outage: the zoom shows the failover, the gap runs off it', async (t) => {
  const svg = renderTimelineSvg(syntheticTimeline(1066))
  const [whole, zoom] = panels(svg)
  t.same([whole!.from, whole!.to], [-1000, 1022 + 2000])
  t.ok(zoom!.from <= -10 && zoom!.to >= 16 && zoom!.to < 100, `the zoom (${zoom!.from} to ${zoom!.to}) holds the fault to the VIP's move`)
  const [band] = elements(zoom!.body, 'gap')
  t.equal(Number(attr(band!, 'x')) + Number(attr(band!, 'width')), 980, 'the gap band reaches the zoom\'s right edge')
  t.match(svg, /client-visible gap: 1066 ms/)
  t.same(xmlProblems(svg), [])
})

t.test('no zoom when the failover is not a sliver of the whole', async (t) => {
  const d = syntheticTimeline()
  d.vip!.at = ZERO + 2500 // a VIP that took 2.5 s to move
  t.equal(panels(renderTimelineSvg(d)).length, 1)
})

t.test('text is escaped', async (t) => {
  const d = syntheticTimeline()
  d.title = 'a <script>alert("x")</script> & more'
  d.nodes![0]!.events.push({ at: ZERO + 20, label: "it's <b>&amp;", level: 'warn' })
  const svg = renderTimelineSvg(d)
  t.notMatch(svg, /<script|<b>/)
  t.match(svg, /a &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; more/)
  t.match(svg, /it&#39;s &lt;b&gt;&amp;amp;/)
  t.same(xmlProblems(svg), [])
})

t.test('missing or empty inputs say "no data"', async (t) => {
  for (const d of [null, undefined, {}, { fault: { at: ZERO, label: 'x' } }, { queries: [{ t: 1, done: 2, ok: true }] }]) {
    const svg = renderTimelineSvg(d as any)
    t.match(svg, /class="no-data"[^>]*>no data/, JSON.stringify(d) ?? 'undefined')
    t.same(xmlProblems(svg), [])
  }
  const noHooks = syntheticTimeline()
  noHooks.nodes![1]!.states = []
  delete noHooks.vip
  noHooks.webhooks = []
  const svg = renderTimelineSvg(noHooks)
  t.match(svg, /no data: no vrrp.transition received/, 'a node without transitions')
  t.match(svg, /no data: the VIP move was not seen/)
  t.notMatch(svg, /VIP on node/)
  const noGap = syntheticTimeline()
  delete noGap.gap
  t.match(renderTimelineSvg(noGap), /no gap measured/)
  t.notMatch(renderTimelineSvg(noGap), /class="gap"/)
})

t.test('garbage in the data is skipped, not drawn', async (t) => {
  const d = syntheticTimeline()
  d.queries!.push({ t: NaN, done: NaN, ok: true }, { t: 'x' as any, done: 1, ok: false })
  d.nodes![0]!.states.push({ state: 'MASTER', from: NaN })
  d.nodes![0]!.events.push({ at: NaN, label: 'never' })
  d.queries!.reverse()
  const svg = renderTimelineSvg(d)
  t.notMatch(svg, /NaN|never/)
  t.equal(elements(panels(svg)[0]!.body, 'query query-failed').length, 1)
})

t.test('the record ending early ends the drawing there', async (t) => {
  const d = syntheticTimeline()
  d.end = ZERO + 400
  const [whole] = panels(renderTimelineSvg(d))
  t.same([whole!.from, whole!.to], [-1000, 400])
  t.match(whole!.body, /to \+400 ms \(the end of the record\)/)
})

t.test("the README's drawing (docs/failover-timeline.svg, from lab/demo.sh) is one of these", async (t) => {
  const svg = readFileSync(new URL('../../docs/failover-timeline.svg', import.meta.url), 'utf8')
  t.same(xmlProblems(svg), [])
  t.match(svg, /^<\?xml[^>]*>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="1000"/)
  t.equal(panels(svg).length, 2)
  t.match(svg, /client-visible gap: \d+ ms/)
})
