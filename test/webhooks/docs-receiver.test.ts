// The receiver docs/webhooks.md shows, run as it is written (only its import
// resolved to this checkout's copy of the library), against real deliveries.
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { openOutbox } from '../../src/outbox/index.js'
import { startDispatcher } from '../../src/webhooks/index.js'
import { silentLogger } from '../../src/log/index.js'
import { freePort, waitFor } from '../fixtures/procs.js'

const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8')
const snippet = /```js\n([\s\S]*?)```/.exec(doc)?.[1]
if (!snippet) throw new Error('docs/webhooks.md: no ```js block')

t.test('the documented receiver verifies our requests and refuses a wrong secret', async (t) => {
  t.ok(snippet.split('\n').length <= 20, 'a short snippet')
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-docs-rx-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'receiver.mjs')
  writeFileSync(file, snippet.replace("from 'standardwebhooks'", `from ${JSON.stringify(import.meta.resolve('standardwebhooks'))}`))
  const secret = 'whsec_' + randomBytes(32).toString('base64')
  const port = await freePort()
  const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH, WEBHOOK_SECRET: secret, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => void child.kill('SIGKILL'))
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  await waitFor('receiver listening', async () => (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST' }).then((r) => r.status).catch(() => undefined)) === 401 || undefined)

  const deliver = async (secrets: string[]) => {
    const state = mkdtempSync(join(dir, 'state-'))
    const config = buildConfig({ state_dir: state, webhooks: [{ name: 'ops', url: `http://127.0.0.1:${port}/hook` }] }, null, { env: { HA_AGENT_WEBHOOK_OPS_SECRET: secrets.join(' ') } })
    const ev = await openOutbox({ stateDir: state, webhooks: config.webhooks }).append({ type: 'vrrp.transition', data: { node: 'n1', instance: 'VI_1', state: 'MASTER' } })
    const d = startDispatcher({ stateDir: state, webhooks: config.webhooks, logger: silentLogger })
    try {
      return { ev, results: await d.waitFor(ev.id, 5000) }
    } finally {
      await d.stop()
    }
  }
  const ok = await deliver([secret])
  t.match(ok.results, [{ result: 'delivered' }])
  await waitFor('receiver printed it', () => out.includes(ok.ev.id) || undefined)
  t.match(out, `${ok.ev.id} vrrp.transition {"node":"n1","instance":"VI_1","state":"MASTER"}`)
  const rotating = await deliver(['whsec_' + randomBytes(32).toString('base64'), secret])
  t.match(rotating.results, [{ result: 'delivered' }], 'while rotating: the receiver knows one of the two')
  const wrong = await deliver(['whsec_' + randomBytes(32).toString('base64')])
  t.match(wrong.results, [{ result: 'dead', detail: 'HTTP 401' }])
})

t.test('the README shows the same receiver, to the letter', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  t.ok(readme.includes('```js\n' + snippet + '```'), 'README.md carries the tested snippet')
})
