// `webhook replay` in-process, from a real config file: what it moves, says and refuses.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli.js'
import { listDeadLetters, openOutbox, WebhookQueue } from '../../src/outbox/index.js'

async function run(argv: string[]) {
  const out = { stdout: '', stderr: '' }
  const code = await main(argv, { env: {}, stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } })
  return { code, ...out }
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-replay-cmd-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const stateDir = join(dir, 'state')
  const runtimeDir = join(dir, 'run')
  const config = join(dir, 'config.yaml')
  writeFileSync(
    config,
    `state_dir: ${stateDir}\nruntime_dir: ${runtimeDir}\nwebhooks:\n` +
      `  - { name: ops, url: "https://hooks.example.test/ha", secret_file: /nonexistent/ops.secret }\n` +
      `  - { name: chat, url: "https://chat.example.test/hook", format: slack }\n`,
  )
  return { stateDir, runtimeDir, config }
}

/** n events for `webhooks`, all dead-lettered for each of them. */
async function dead(stateDir: string, webhooks: string[], n: number) {
  const outbox = openOutbox({ stateDir, webhooks: webhooks.map((name) => ({ name })) })
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push((await outbox.append({ type: 'agent.test', data: { node: 'n1', i } })).id)
  for (const w of webhooks) {
    const q = new WebhookQueue(stateDir, w)
    for (let i = 0; i < n; i++) q.deadLetter(q.head()!, 'HTTP 410', 1)
  }
  return ids
}

const queued = (stateDir: string, webhook: string) =>
  readdirSync(join(stateDir, 'queue', webhook))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => f.slice(0, -5))

t.test('without --name and ids: everything, per webhook, in order; says no daemon runs', async (t) => {
  const { stateDir, config } = setup(t)
  const both = await dead(stateDir, ['ops', 'chat'], 2)
  const opsOnly = await dead(stateDir, ['ops'], 1)
  const r = await run(['webhook', 'replay', '--config', config])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'chat: 2 dead letters back in the queue\nops: 3 dead letters back in the queue\nno daemon is running: they go out, oldest first, when `ha-agent run` starts\n')
  t.same(queued(stateDir, 'ops'), [...both, ...opsOnly], 'original order, original ids')
  t.same(queued(stateDir, 'chat'), both)
  t.same(listDeadLetters(stateDir), [])
  t.same(await run(['webhook', 'replay', '--config', config]), { code: 0, stdout: 'no dead letters to replay\n', stderr: '' })
})

t.test('by id (from every webhook it died for), by --name, or both', async (t) => {
  const { stateDir, config } = setup(t)
  const ids = await dead(stateDir, ['ops', 'chat'], 3)
  const r = await run(['webhook', 'replay', ids[1]!, '--config', config])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^chat: 1 dead letter back in the queue\nops: 1 dead letter back in the queue\n/)
  t.same(queued(stateDir, 'ops'), [ids[1]])
  const named = await run(['webhook', 'replay', '--name', 'ops', ids[2]!, ids[0]!, '--config', config])
  t.match(named.stdout, /^ops: 2 dead letters back in the queue\n/)
  t.same(queued(stateDir, 'ops'), ids)
  t.same(listDeadLetters(stateDir).map((d) => `${d.webhook} ${d.id}`), [`chat ${ids[0]}`, `chat ${ids[2]}`])
  t.match((await run(['webhook', 'replay', '--name', 'chat', '--config', config])).stdout, /^chat: 2 dead letters back in the queue\n/)
})

t.test('unknown ids and names are errors that name them, and nothing is replayed', async (t) => {
  const { stateDir, config } = setup(t)
  const ids = await dead(stateDir, ['ops'], 2)
  const missing = 'msg_0006253f1a2b3c4d00112233'
  const r = await run(['webhook', 'replay', ids[0]!, missing, '--config', config])
  t.equal(r.code, 1)
  t.equal(r.stderr, `ha-agent: webhook replay: not a dead letter: ${missing} (nothing replayed; \`ha-agent webhook dead\` lists them)\n`)
  t.equal(listDeadLetters(stateDir).length, 2, 'all or nothing')
  const wrongHook = await run(['webhook', 'replay', '--name', 'chat', ids[0]!, '--config', config])
  t.equal(wrongHook.code, 1)
  t.match(wrongHook.stderr, `not a dead letter of webhook chat: ${ids[0]}`)
  const malformed = await run(['webhook', 'replay', 'msg_nope', '12', '--config', config])
  t.equal(malformed.code, 2)
  t.match(malformed.stderr, 'not an event id: msg_nope, 12')
  const nope = await run(['webhook', 'replay', '--name', 'nope', '--config', config])
  t.equal(nope.code, 2)
  t.match(nope.stderr, 'no webhook named "nope" (configured: ops, chat)')
  t.equal(listDeadLetters(stateDir).length, 2)
})

t.test('dead letters of a webhook no longer configured stay where they are', async (t) => {
  const { stateDir, config } = setup(t)
  const gone = await dead(stateDir, ['old-hook'], 1)
  await dead(stateDir, ['ops'], 1)
  const all = await run(['webhook', 'replay', '--config', config])
  t.equal(all.code, 0)
  t.match(all.stdout, /^ops: 1 dead letter back in the queue\n/)
  t.match(all.stderr, /^old-hook: not in the config any more: its 1 dead letter stay in .*dead\/old-hook\n$/)
  t.notOk(existsSync(join(stateDir, 'queue', 'old-hook', `${gone[0]}.json`)))
  const named = await run(['webhook', 'replay', '--name', 'old-hook', '--config', config])
  t.equal(named.code, 1)
  t.match(named.stderr, /webhook "old-hook" is not in the config any more, so nothing would deliver its 1 dead letter; they stay in /)
  const byId = await run(['webhook', 'replay', gone[0]!, '--config', config])
  t.equal(byId.code, 1)
  t.match(byId.stderr, `old-hook (${gone[0]}): not in the config any more`)
  t.equal(listDeadLetters(stateDir, 'old-hook').length, 1)
})

t.test('says so when a daemon is there to deliver them', async (t) => {
  const { stateDir, runtimeDir, config } = setup(t)
  await dead(stateDir, ['ops'], 1)
  mkdirSync(runtimeDir, { recursive: true })
  // Something that answers the control socket's ping as the daemon does.
  const server = createServer((s) => s.once('data', () => s.end('{"ok":true}\n')))
  await new Promise<void>((resolve) => server.listen(join(runtimeDir, 'agent.sock'), resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const r = await run(['webhook', 'replay', '--config', config])
  t.match(r.stdout, /\nthe daemon delivers them now, oldest first; `ha-agent status` shows what is pending\n$/)
})
