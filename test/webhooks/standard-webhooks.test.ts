// A receiver that verifies with the official library (npm `standardwebhooks`),
// by default, as its README shows: our requests must pass, through the real
// delivery path (outbox, dispatcher, HTTP), with one secret and while rotating.
import t from 'tap'
import { createServer } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { buildConfig } from '../../src/config/index.js'
import { openOutbox } from '../../src/outbox/index.js'
import { startDispatcher } from '../../src/webhooks/index.js'
import { silentLogger } from '../../src/log/index.js'

const newSecret = () => 'whsec_' + randomBytes(32).toString('base64')

interface Verdict {
  ok: boolean
  error?: string
  payload?: any
  id: string
}

/** An HTTP receiver on loopback that knows `secret` and verifies every request with the library. */
async function verifyingReceiver(t: { teardown(fn: () => unknown): void }, secret: string) {
  const wh = new Webhook(secret)
  const verdicts: Verdict[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const id = String(req.headers['webhook-id'])
      try {
        const payload = wh.verify(body, req.headers as Record<string, string>)
        verdicts.push({ ok: true, payload, id })
        res.writeHead(204).end()
      } catch (err) {
        verdicts.push({ ok: false, error: (err as Error).message, id })
        res.writeHead(401).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, verdicts }
}

/** Delivers one agent.test event to `url`, signed with the secrets in `files`, and waits for the result. */
async function deliverOne(t: { teardown(fn: () => unknown): void }, url: string, secrets: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-stdwh-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const files = secrets.map((s, i) => {
    const f = join(dir, `key${i}.secret`)
    writeFileSync(f, s + '\n', { mode: 0o600 })
    return f
  })
  const config = buildConfig({ state_dir: join(dir, 'state'), webhooks: [{ name: 'ops', url, secret_file: files.length === 1 ? files[0] : files }] }, null)
  const ev = await openOutbox({ stateDir: config.state_dir, webhooks: config.webhooks }).append({ type: 'agent.test', data: { node: 'n1', state: 'test' } })
  const d = startDispatcher({ stateDir: config.state_dir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  return { ev, results: await d.waitFor(ev.id, 10_000) }
}

t.test('one secret: the official verifier accepts our request and returns our payload', async (t) => {
  const secret = newSecret()
  const rx = await verifyingReceiver(t, secret)
  const { ev, results } = await deliverOne(t, rx.url, [secret])
  t.match(results, [{ webhook: 'ops', result: 'delivered' }])
  t.equal(rx.verdicts.length, 1)
  t.match(rx.verdicts[0], { ok: true, id: ev.id, payload: { type: 'agent.test', timestamp: ev.timestamp, data: { node: 'n1', state: 'test' } } })
})

t.test('two secrets (rotation): a receiver that knows only the new one verifies; one that knows only the old one too', async (t) => {
  const [oldKey, newKey] = [newSecret(), newSecret()]
  const onlyNew = await verifyingReceiver(t, newKey)
  const a = await deliverOne(t, onlyNew.url, [oldKey, newKey])
  t.match(a.results, [{ result: 'delivered' }])
  t.match(onlyNew.verdicts, [{ ok: true, id: a.ev.id }])
  const onlyOld = await verifyingReceiver(t, oldKey)
  const b = await deliverOne(t, onlyOld.url, [oldKey, newKey])
  t.match(b.results, [{ result: 'delivered' }])
  t.match(onlyOld.verdicts, [{ ok: true }])
})

t.test('a wrong secret fails verification (the test can fail)', async (t) => {
  const rx = await verifyingReceiver(t, newSecret())
  const { results } = await deliverOne(t, rx.url, [newSecret(), newSecret()])
  t.match(results, [{ webhook: 'ops', result: 'dead', detail: 'HTTP 401' }])
  t.match(rx.verdicts, [{ ok: false, error: 'No matching signature found' }])
})
