// kill -9 of the delivering process at random moments, then a restart: every
// event arrives, in order, with the id it was given when it was recorded; a
// duplicate (the request in flight at the kill) is allowed, a loss is not.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { webcrypto } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildConfig } from '../../src/config/index.js'
import { openOutbox } from '../../src/outbox/index.js'
import { startReceiver, type Received } from '../fixtures/receiver.js'
import { waitFor } from '../fixtures/procs.js'

const CHILD = fileURLToPath(new URL('../fixtures/dispatcher-child.ts', import.meta.url))
const SECRET = 'whsec_' + Buffer.from('crash-test-key-0123456789abcdef').toString('base64')

// The TypeScript loader tap runs this file with, so the child can run a .ts fixture.
const tsLoader = process.execArgv.filter((a) => a.includes('@tapjs/typescript') || a.includes('tsx') || a.includes('ts-node'))

interface Child {
  proc: ChildProcess
  lines: string[]
  exited: Promise<void>
}

function startChild(stateDir: string, webhooks: object[]): Child {
  const proc = spawn(process.execPath, [...tsLoader, CHILD, stateDir, JSON.stringify(webhooks), SECRET], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  let buf = ''
  proc.stdout!.on('data', (d) => {
    buf += d
    const parts = buf.split('\n')
    buf = parts.pop()!
    lines.push(...parts)
  })
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  return { proc, lines, exited }
}

/** Verifies a Standard Webhooks signature with WebCrypto, apart from the code under test. */
async function verify(r: Received): Promise<boolean> {
  const key = await webcrypto.subtle.importKey('raw', Buffer.from(SECRET.slice(6), 'base64'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
  const [version, sig] = String(r.headers['webhook-signature']).split(',')
  if (version !== 'v1' || !sig) return false
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`
  return webcrypto.subtle.verify('HMAC', key, Buffer.from(sig, 'base64'), new TextEncoder().encode(signed))
}

t.test('kill -9 during delivery, restart: nothing lost, same ids, order kept', async (t) => {
  const rx = await startReceiver(t)
  // Every answer takes a while, so kills land with a request in flight.
  rx.setDefault({ status: 200, delayMs: 40 })
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-crash-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const webhooks = [{ name: 'ops', url: rx.url }]
  const config = buildConfig({ state_dir: stateDir, webhooks }, null, { env: { HA_AGENT_WEBHOOK_OPS_SECRET: SECRET } })
  const outbox = openOutbox({ stateDir, webhooks: config.webhooks })

  const ids: string[] = []
  const record = async (n: number) => {
    for (let i = 0; i < n; i++) ids.push((await outbox.append({ type: 'agent.test', data: { node: 'n1', state: `e${ids.length}` } })).id)
  }
  await record(30)

  let child: Child | undefined
  t.teardown(() => {
    child?.proc.kill('SIGKILL')
  })
  let kills = 0
  for (const after of [3, 9, 17, 24]) {
    child = startChild(stateDir, webhooks)
    const current = child
    await waitFor('child ready', () => current.lines.includes('ready') || undefined, 30_000)
    // Wait until the receiver has seen `after` requests and one more is in flight.
    await waitFor(`${after} requests`, () => rx.all.length > after || undefined, 30_000, 2)
    current.proc.kill('SIGKILL')
    await current.exited
    kills++
    // Events recorded while nothing delivers (notify with the daemon down).
    await record(2)
  }
  child = startChild(stateDir, webhooks)
  const uniqueIds = () => [...new Set(rx.delivered.map((r) => String(r.headers['webhook-id'])))]
  await waitFor('every event delivered', () => uniqueIds().length >= ids.length || undefined, 60_000)

  const seen = rx.all.map((r) => String(r.headers['webhook-id']))
  t.equal(kills, 4)
  t.same(uniqueIds(), ids, 'every event delivered, first deliveries in the order recorded')
  t.ok(seen.every((id) => ids.includes(id)), 'no request carried an id other than the recorded ones')
  const duplicates = seen.length - new Set(seen).size
  t.ok(duplicates <= kills * 2, `at most the in-flight request re-sent per kill (${duplicates} duplicate requests)`)
  // A re-sent event is the same event: same body for the same id.
  const bodyById = new Map<string, string>()
  for (const r of rx.all) {
    const id = String(r.headers['webhook-id'])
    if (bodyById.has(id)) t.equal(r.body, bodyById.get(id), `${id}: same body on re-send`)
    else bodyById.set(id, r.body)
  }
  const verified = await Promise.all(rx.all.map(verify))
  t.ok(verified.every(Boolean), `all ${verified.length} signatures verify with WebCrypto`)
  await waitFor('queue empty', () => readdirSync(join(stateDir, 'queue', 'ops')).filter((n) => n.endsWith('.json')).length === 0 || undefined, 10_000)
  t.comment(`${ids.length} events, ${kills} kills, ${rx.all.length} requests, ${duplicates} duplicates`)
})

t.test('kill -9 while backing off: the retry state survives, the event is not lost', async (t) => {
  const rx = await startReceiver(t)
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-crash-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const webhooks = [{ name: 'ops', url: rx.url }]
  const config = buildConfig({ state_dir: stateDir, webhooks }, null, { env: {} })
  const outbox = openOutbox({ stateDir, webhooks: config.webhooks })
  // Retry-After: 2 s, then the child is killed in the wait.
  rx.reply({ status: 503, headers: { 'retry-after': '2' } })
  const ev = await outbox.append({ type: 'agent.test', data: { node: 'n1', state: 'x' } })
  let child = startChild(stateDir, webhooks)
  t.teardown(() => {
    child.proc.kill('SIGKILL')
  })
  await waitFor('the 503', () => child.lines.find((l) => l.startsWith('retry ')), 30_000)
  const firstAttempt = rx.all[0]!.at
  child.proc.kill('SIGKILL')
  await child.exited
  child = startChild(stateDir, webhooks)
  const [ok] = await rx.waitForDelivered(1, 30_000)
  t.equal(ok!.headers['webhook-id'], ev.id)
  t.ok(ok!.at - firstAttempt >= 1900, `the restarted dispatcher still honoured Retry-After (${(ok!.at - firstAttempt).toFixed(0)} ms)`)
  t.equal(rx.all.length, 2, 'one failed attempt, one delivery')
})
