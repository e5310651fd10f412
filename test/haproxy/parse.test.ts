// `show stat` / `show info` as HAProxy 2.6 (Debian 12) printed them, captured from
// a backend with one server UP, one DOWN (nothing listening) and one disabled.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { infoFields, parseShowInfo, parseShowStat, parseStatStatus } from '../../src/haproxy/index.js'

const statCsv = readFileSync(new URL('./fixtures/show-stat-2.6.csv', import.meta.url), 'utf8')
const infoText = readFileSync(new URL('./fixtures/show-info-2.6.txt', import.meta.url), 'utf8')

t.test('show stat: one typed row per proxy/server, every header field kept', async (t) => {
  const rows = parseShowStat(statCsv)
  t.same(
    rows.map((r) => [r.pxname, r.svname, r.status, r.type]),
    [
      ['postgres', 'FRONTEND', 'OPEN', 0],
      ['pgbouncers', 'pgbouncer1', 'UP', 2],
      ['pgbouncers', 'pgbouncer2', 'DOWN', 2],
      ['pgbouncers', 'pgbouncer3', 'MAINT', 2],
      ['pgbouncers', 'BACKEND', 'UP', 1],
    ],
  )
  const down = rows.find((r) => r.svname === 'pgbouncer2')!
  t.match(down.check_status, /^L4CON$/, 'the failed layer-4 check is reported')
  t.match(down.addr, /^127\.0\.0\.1:\d+$/)
  // the header has a trailing comma: no field named "" sneaks in
  t.notOk(Object.prototype.hasOwnProperty.call(rows[0], ''))
})

t.test('show stat: CRLF, trailing blank lines and a header-only answer', async (t) => {
  t.same(parseShowStat(statCsv.split('\n')[0] + '\n\n'), [])
  const lf = parseShowStat(statCsv)
  t.same(parseShowStat(statCsv.replace(/\n/g, '\r\n')), lf)
})

t.test('show stat: anything else is garbage and throws with what came back', async (t) => {
  t.throws(() => parseShowStat(''), /not a "show stat" answer: ""/)
  t.throws(() => parseShowStat('Unknown command, but maybe one of the following ones is a better match:\n'), /not a "show stat" answer: "Unknown command/)
  t.throws(() => parseShowStat('Permission denied\n'), /Permission denied/)
  t.throws(() => parseShowStat(infoText), /not a "show stat" answer: "Name: HAProxy/)
})

t.test('show info: "Key: value" lines', async (t) => {
  const info = parseShowInfo(infoText)
  t.equal(info.Name, 'HAProxy')
  t.match(info.Version, /^2\.6\./)
  t.match(info.Pid, /^\d+$/)
  t.equal(info.Release_date, '2026/10/17')
  t.ok(Number(info.Uptime_sec) >= 0)
  t.throws(() => parseShowInfo(statCsv), /not a "show info" answer/)
  t.throws(() => parseShowInfo(''), /not a "show info" answer/)
})

// HAProxy 3.0 (Debian 13), captured on a booted lab node: ~100 columns a row.
const answer30 = readFileSync(new URL('./fixtures/show-info-stat-3.0.txt', import.meta.url), 'utf8')

t.test('the lean readers the daemon uses every round say what the full parsers say (2.6 and 3.0)', async (t) => {
  const cut = answer30.indexOf('\n\n')
  for (const [name, info, stat] of [['2.6', infoText, statCsv], ['3.0', answer30.slice(0, cut + 1), answer30.slice(cut + 2)]] as const) {
    t.same(parseStatStatus(stat), parseShowStat(stat).map((r) => ({ pxname: r.pxname, svname: r.svname, status: r.status, type: r.type })), `${name}: show stat`)
    t.same(parseStatStatus(stat.replace(/\n/g, '\r\n')), parseStatStatus(stat), `${name}: CRLF`)
    const full = parseShowInfo(info)
    t.same(infoFields(info), { Name: full.Name, Pid: full.Pid, Version: full.Version }, `${name}: show info`)
  }
  t.throws(() => parseStatStatus('Permission denied\n'), /not a "show stat" answer: "Permission denied"/)
  t.throws(() => parseStatStatus(infoText), /not a "show stat" answer: "Name: HAProxy/)
  t.throws(() => infoFields(statCsv), /not a "show info" answer/)
  t.throws(() => infoFields(''), /not a "show info" answer/)
  t.same(parseStatStatus(statCsv.split('\n')[0] + '\n\n'), [])
})
