// The PgBouncer check's reachability probe (the PostgreSQL SSLRequest) against
// stand-ins: servers that answer as PostgreSQL does, and ones that misbehave
// (never answer, speak another protocol, refuse). (Real PgBouncers and their
// admin console: test/integration/check-pgbouncer.test.ts.)
import t from 'tap'
import { buildConfig } from '../../src/config/index.js'
import { probeProtocol, probePgbouncer, splitHostPort } from '../../src/checks/pgbouncer.js'
import { freePort, misbehavingServer } from '../fixtures/procs.js'

/** Answers the 8-byte SSLRequest with one byte, as PgBouncer ('N') or PostgreSQL ('S', or 'E' when very old) do. */
const answering = (byte: string) =>
  misbehavingServer(0, (c) => {
    let got = Buffer.alloc(0)
    c.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d])
      if (got.length >= 8) c.write(got.readUInt32BE(4) === 80877103 ? byte : 'X')
    })
  })
const bouncer = await answering('N')
const ssl = await answering('S')
const old = await answering('E')
const never = await misbehavingServer(0, () => {})
const http = await misbehavingServer(0, (c) => c.once('data', () => c.end('HTTP/1.1 400 Bad Request\r\n\r\n')))
const early = await misbehavingServer(0, (c) => c.end())
t.teardown(() => Promise.all([bouncer, ssl, old, never, http, early].map((s) => s.close())))
const at = (s: { port?: number }) => `127.0.0.1:${s.port}`

function pgbouncerConfig(section: Record<string, unknown>) {
  const cfg = buildConfig({ checks: { pgbouncer: section } }, null, { env: {} }).checks.pgbouncer
  if (!cfg) throw new Error('no pgbouncer section')
  return cfg
}
const noSignal = () => new AbortController().signal

t.test('host:port with IPv6 brackets', async (t) => {
  t.same(splitHostPort('127.0.0.1:6432'), { host: '127.0.0.1', port: 6432 })
  t.same(splitHostPort('[::1]:6433'), { host: '::1', port: 6433 })
})

t.test('N, S and E are answers of the PostgreSQL protocol: the round trip in ms', async (t) => {
  for (const s of [bouncer, ssl, old]) {
    const ms = await probeProtocol(at(s), 1000)
    t.ok(ms >= 0 && ms < 1000, `${at(s)} answered in ${ms} ms`)
  }
})

t.test('each way of not being PgBouncer is a reason naming the target', async (t) => {
  const closed = `127.0.0.1:${await freePort()}`
  await t.rejects(probeProtocol(closed, 1000), new RegExp(`^${closed}: ECONNREFUSED$`))
  await t.rejects(probeProtocol(at(http), 1000), /: not the PostgreSQL protocol \(answered 0x48\)/)
  await t.rejects(probeProtocol(at(early), 1000), new RegExp(`^${at(early)}: closed without answering$`))
  const started = performance.now()
  await t.rejects(probeProtocol(at(never), 300), new RegExp(`^127\\.0\\.0\\.1:${never.port}: no answer within 300 ms$`))
  // A timer never fires early; how late it fires depends on the machine's load.
  t.ok(performance.now() - started >= 290, 'waited for the deadline')
  const ac = new AbortController()
  const aborted = probeProtocol(at(never), 60_000, ac.signal)
  ac.abort()
  await t.rejects(aborted, /no answer before the deadline/)
})

t.test('min_up counts answering targets; the down ones are named', async (t) => {
  const hung = at(never)
  const cfg = pgbouncerConfig({ targets: [at(bouncer), hung, at(http)], min_up: 1 })
  const one = await probePgbouncer(cfg, 400, noSignal())
  t.equal(one.ok, true)
  t.match(one.detail, /^1\/3 PgBouncers answer \(need 1\); down: /)
  t.match(one.detail, `${hung}: no answer within 400 ms`)
  t.match(one.detail, `${at(http)}: not the PostgreSQL protocol`)
  t.match(one.data, { up: 1, total: 3, min_up: 1, answering: [at(bouncer)] })
  const two = await probePgbouncer(pgbouncerConfig({ targets: cfg.targets, min_up: 2 }), 400, noSignal())
  t.equal(two.ok, false)
  t.match(two.detail, /^1\/3 PgBouncers answer \(need 2\): /)
  const all = await probePgbouncer(pgbouncerConfig({ targets: [at(bouncer), at(ssl)], min_up: 2 }), 400, noSignal())
  t.same([all.ok, all.detail], [true, '2/2 PgBouncers answer (need 2)'])
})
