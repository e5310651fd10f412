// The failover timeline (lab/timeline-svg.mjs) from a real demo run's files, as a
// browser shows it: Debian's headless Chromium loads it as an <img>, the way the
// README shows it, and screenshots it, and the PNG's pixels must hold the gap band
// and the ok and failed queries' colours.
import t from 'tap'
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { COLORS, renderTimelineSvg } from '../../lab/timeline-svg.mjs'
import { chromium, noChromium } from '../fixtures/chromium.js'
import { countColour, decodePng } from '../fixtures/png.js'
import { DEMO_RUN, demoTimeline } from '../fixtures/timeline.js'

const dir = mkdtempSync(join(tmpdir(), 'timeline-chromium-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const data = demoTimeline()
// The demo's client saw no failed query; one is added to see red drawn too.
data.queries!.push({ t: DEMO_RUN.kill_ms + 10, done: DEMO_RUN.kill_ms + 14, ok: false, error: 'ECONNREFUSED' })
const svg = renderTimelineSvg(data)
const svgFile = join(dir, 'timeline.svg')
writeFileSync(svgFile, svg)
// A control in the same page: a document with an unclosed element must be seen as broken.
writeFileSync(join(dir, 'broken.svg'), svg.replace('</g>', ''))
const [width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.slice(1).map(Number) as [number, number]

t.test('Chromium loads it as an image, at its size', { skip: noChromium }, async (t) => {
  const page = join(dir, 'page.html')
  writeFileSync(page, `<!doctype html><html><body>
<img id="timeline" src="timeline.svg"><img id="broken" src="broken.svg">
<pre id="result">no load event</pre>
<script>
  const seen = (id) => { const img = document.getElementById(id); return { complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight } }
  window.addEventListener('load', () => { document.getElementById('result').textContent = JSON.stringify({ timeline: seen('timeline'), broken: seen('broken') }) })
</script></body></html>`)
  const dom = await chromium(['--dump-dom', `file://${page}`])
  const m = /<pre id="result">([^<]*)<\/pre>/.exec(dom)
  t.ok(m, 'the page ran its script')
  const result = JSON.parse(m![1]!.replace(/&quot;/g, '"'))
  t.same(result.timeline, { complete: true, naturalWidth: width, naturalHeight: height }, 'the SVG decoded, at its width and height')
  t.same(result.broken, { complete: true, naturalWidth: 0, naturalHeight: 0 }, 'the control: a broken SVG does not decode')
})

t.test("Chromium draws it: the gap band, good and failed queries, keepalived's states", { skip: noChromium }, async (t) => {
  // through an <img>, as the README shows it: a document Chromium cannot parse then
  // draws nothing (opened directly, it draws up to the first error under a banner)
  const page = join(dir, 'shot.html')
  writeFileSync(page, '<!doctype html><html><body style="margin:0"><img src="timeline.svg" style="display:block"></body></html>')
  const png = join(dir, 'timeline.png')
  await chromium([`--screenshot=${png}`, `--window-size=${width},${height}`, `file://${page}`])
  const pixels = decodePng(readFileSync(png))
  t.equal(pixels.width, width)
  const counts = Object.fromEntries(['gap', 'ok', 'failed', 'MASTER', 'FAULT', 'BACKUP'].map((c) => [c, countColour(pixels, COLORS[c as keyof typeof COLORS])]))
  t.comment(`pixels of each colour: ${JSON.stringify(counts)}`)
  t.ok(counts.gap! > 2000, 'the gap band (119 ms: ~27 px wide in the whole, shaded under the lanes)')
  t.ok(counts.ok! > 500, 'good queries, green: ~80 of them, 20 px tall')
  t.ok(counts.failed! > 40, 'the failed query, red')
  t.ok(counts.MASTER! > 5000 && counts.FAULT! > 5000 && counts.BACKUP! > 1000, 'MASTER, FAULT and BACKUP spans')
  t.ok(countColour(pixels, '#ffffff') > (width * height) / 2, 'mostly the white background: nothing else got painted over it')
})
