import t from 'tap'
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as netServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkWebhooks, statusUrl } from '../../src/doctor/webhooks.js'
import { agentConfig, problems } from '../fixtures/doctor.js'
import { freePort } from '../fixtures/procs.js'

const seen: Array<{ method: string; url: string; body: string }> = []
async function receiver(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body })
      handler(req, res)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return (server.address() as AddressInfo).port
}

t.test("Alertmanager's status under the alerts' prefix", async (t) => {
  t.equal(statusUrl('http://am:9093'), 'http://am:9093/api/v2/status')
  t.equal(statusUrl('http://am:9093/prefix/'), 'http://am:9093/prefix/api/v2/status')
  t.equal(statusUrl('http://am:9093/api/v2/alerts'), 'http://am:9093/api/v2/status')
})

t.test('a HEAD that delivers nothing; its status, or why no answer; secrets never printed', async (t) => {
  const ok = await receiver((_q, s) => s.writeHead(405).end())
  const failing = await receiver((_q, s) => s.writeHead(503).end())
  const am = await receiver((q, s) => s.writeHead(q.url === '/am/api/v2/status' ? 200 : 404).end('{}'))
  const notAm = await receiver((_q, s) => s.writeHead(404).end())
  const refused = await freePort()
  // accepts and never answers
  const hang = netServer((c: Socket) => c.on('error', () => {}))
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r))
  t.teardown(() => hang.close())
  const hangPort = (hang.address() as AddressInfo).port
  const config = agentConfig({
    webhooks: [
      { name: 'ops', url: `http://127.0.0.1:${ok}/hook/s3cret?token=tok3n` },
      { name: 'slack', format: 'slack', url: `http://127.0.0.1:${failing}/services/T0/B0/xyz` },
      { name: 'am', format: 'alertmanager', url: `http://127.0.0.1:${am}/am` },
      { name: 'not-am', format: 'alertmanager', url: `http://127.0.0.1:${notAm}` },
      { name: 'refused', url: `http://127.0.0.1:${refused}/x` },
      { name: 'hangs', url: `http://127.0.0.1:${hangPort}/x`, timeout_ms: 300 },
      { name: 'nowhere', url: 'http://no-such-host.invalid/x', timeout_ms: 2000 },
    ],
  })
  const f = await checkWebhooks(config, { daemonUser: undefined })
  t.match(f, [
    { severity: 'ok', where: `webhook ops (http://127.0.0.1:${ok}/…)`, problem: 'the receiver answers (HEAD 405; a HEAD delivers no event)' },
    { severity: 'warning', problem: 'HEAD answered 503: the receiver is there but failing' },
    { severity: 'ok', problem: 'Alertmanager answers GET /api/v2/status with 200' },
    { severity: 'error', problem: /GET \/api\/v2\/status answered 404: not an Alertmanager/ },
    { severity: 'error', problem: 'HEAD got no answer: connection refused: nothing listens on that port' },
    { severity: 'error', problem: 'HEAD got no answer: no answer within its timeout_ms (300 ms)' },
    { severity: 'error', problem: /HEAD got no answer: the host name does not resolve \(ENOTFOUND|EAI_AGAIN\)/ },
  ])
  const text = JSON.stringify(f)
  for (const secret of ['s3cret', 'tok3n', 'xyz', 'services']) t.notOk(text.includes(secret), `${secret} is not printed`)
  t.same(seen.filter((r) => r.method !== 'HEAD' && r.method !== 'GET'), [], 'nothing was POSTed')
  t.same(seen.filter((r) => r.body !== ''), [], 'no request carried a body')
})

t.test('exec: the program is there and the ha-agent user may run it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-doctor-exec-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  chmodSync(dir, 0o755)
  const prog = join(dir, 'hook')
  writeFileSync(prog, '#!/bin/sh\n')
  chmodSync(prog, 0o700)
  const config = agentConfig({ webhooks: [{ name: 'run', format: 'exec', command: [prog] }, { name: 'gone', format: 'exec', command: [join(dir, 'nope')] }] })
  const stranger = { name: 'ha-agent', uid: 54321, gids: [54321] }
  t.match(problems(await checkWebhooks(config, { daemonUser: stranger, stat: statSync })), [/^error webhooks\.exec webhook run \(exec \S+\): ha-agent cannot run it: .* may not run it/, /^error webhooks\.exec webhook gone .*no such file or directory/])
  chmodSync(prog, 0o755)
  t.match(await checkWebhooks(config, { daemonUser: stranger, stat: statSync }), [{ severity: 'ok', problem: /is there and ha-agent may run it/ }, { severity: 'error' }])
  t.match(problems(await checkWebhooks(agentConfig(), { daemonUser: stranger })), [/^warning webhooks\.reach .*no webhooks/])
})
