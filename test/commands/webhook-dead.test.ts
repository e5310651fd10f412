// `webhook dead` in-process, from a real config file: what it lists and how.
import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli.js'
import { openOutbox, WebhookQueue } from '../../src/outbox/index.js'
import { formatDeadLetters, shortAge } from '../../src/commands/webhook-dead.js'

async function run(argv: string[], opts: { tty?: boolean } = {}) {
  const out = { stdout: '', stderr: '' }
  const code = await main(argv, {
    env: {},
    stdout: { write: (s: string) => (out.stdout += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => (out.stderr += s) },
  })
  return { code, ...out }
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-dead-cmd-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const stateDir = join(dir, 'state')
  const config = join(dir, 'config.yaml')
  // ops's secret is a file this user cannot have (only the daemon's environment would): listing needs none.
  writeFileSync(
    config,
    `state_dir: ${stateDir}\nruntime_dir: ${join(dir, 'run')}\nwebhooks:\n` +
      `  - { name: ops, url: "https://hooks.example.test/ha", secret_file: /nonexistent/ops.secret }\n` +
      `  - { name: chat, url: "https://chat.example.test/hook", format: slack }\n` +
      `  - { name: on-failover, format: exec, command: ["/usr/local/bin/on-failover"] }\n`,
  )
  return { dir, stateDir, config }
}

async function killSome(stateDir: string, webhook: string, n: number, reason: string) {
  const outbox = openOutbox({ stateDir, webhooks: [{ name: webhook }] })
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push((await outbox.append({ type: i % 2 ? 'agent.test' : 'vrrp.transition', data: { node: 'n1', i } })).id)
  const q = new WebhookQueue(stateDir, webhook)
  for (let i = 0; i < n; i++) q.deadLetter(q.head()!, reason, 3)
  return ids
}

t.test('lists every dead letter with webhook, id, type, age, when it died, attempts and the last error', async (t) => {
  const { stateDir, config } = setup(t)
  const ops = await killSome(stateDir, 'ops', 2, 'HTTP 410')
  const hook = await killSome(stateDir, 'on-failover', 1, 'not delivered within max_age (12 attempts; last: exit 3: cannot reach\n the pooler)')
  const r = await run(['webhook', 'dead', '--config', config])
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  t.match(lines[0], /^WEBHOOK\s+ID\s+TYPE\s+AGE\s+DIED\s+ATTEMPTS\s+LAST ERROR$/)
  t.equal(lines.length, 4, 'a header and one line each; no footer when not a terminal')
  t.match(lines[1], new RegExp(`^ops\\s+${ops[0]}\\s+vrrp.transition\\s+\\d+s\\s+\\d+s ago\\s+3\\s+HTTP 410$`))
  t.match(lines[2], new RegExp(`^ops\\s+${ops[1]}\\s+agent.test\\s+`))
  t.match(lines[3], new RegExp(`^on-failover\\s+${hook[0]}\\s+vrrp.transition\\s+.*last: exit 3: cannot reach the pooler\\)$`), 'the last error whole, on one line')

  const tty = await run(['webhook', 'dead', '--config', config], { tty: true })
  t.match(tty.stdout, /\n3 dead letters \(ops: 2, on-failover: 1\); put them back with: ha-agent webhook replay \[--name NAME\] \[ID\.\.\.\]\n$/)

  const one = await run(['webhook', 'dead', '--name', 'on-failover', '--config', config])
  t.equal(one.stdout.trimEnd().split('\n').length, 2)
  t.same(await run(['webhook', 'dead', '--name', 'chat', '--config', config]), { code: 0, stdout: 'no dead letters for webhook chat\n', stderr: '' })
})

t.test('--json: the same, for scripts', async (t) => {
  const { stateDir, config } = setup(t)
  const [id] = await killSome(stateDir, 'ops', 1, 'HTTP 404')
  const r = await run(['webhook', 'dead', '--json', '--config', config])
  t.equal(r.code, 0)
  const list = JSON.parse(r.stdout)
  t.match(list, [{ webhook: 'ops', configured: true, id, type: 'vrrp.transition', happened_at: /^\d{4}-\d\d-\d\dT/, dead_at: /^\d{4}-/, attempts: 3, reason: 'HTTP 404' }])
  t.same(JSON.parse((await run(['webhook', 'dead', '--json', '--name', 'chat', '--config', config])).stdout), [])
})

t.test('a webhook removed from the config keeps its dead letters, listed as such', async (t) => {
  const { stateDir, config } = setup(t)
  await killSome(stateDir, 'old-hook', 1, 'HTTP 410')
  const r = await run(['webhook', 'dead', '--config', config])
  t.match(r.stdout, /^old-hook \(not configured\)\s+msg_/m)
  t.equal((await run(['webhook', 'dead', '--name', 'old-hook', '--config', config])).code, 0)
})

t.test('nothing dead; unknown names and stray arguments are usage errors; an unreadable state_dir fails', async (t) => {
  const { stateDir, config } = setup(t)
  t.same(await run(['webhook', 'dead', '--config', config]), { code: 0, stdout: 'no dead letters\n', stderr: '' })
  const nope = await run(['webhook', 'dead', '--name', 'nope', '--config', config])
  t.equal(nope.code, 2)
  t.equal(nope.stderr, 'ha-agent: webhook dead: no webhook named "nope" (configured: ops, chat, on-failover)\n')
  t.equal((await run(['webhook', 'dead', 'msg_0006253f1a2b3c4d00112233', '--config', config])).code, 2)
  t.equal((await run(['webhook', 'dead', '--bogus', '--config', config])).code, 2)
  mkdirSync(stateDir, { recursive: true })
  writeFileSync(join(stateDir, 'dead'), 'not a directory')
  const broken = await run(['webhook', 'dead', '--config', config])
  t.equal(broken.code, 1)
  t.match(broken.stderr, /cannot read the dead letters in .*dead: not a directory \(ENOTDIR\)/)
  const badConfig = await run(['webhook', 'dead', '--config', join(stateDir, 'missing.yaml')])
  t.equal(badConfig.code, 78)
})

t.test('ages as people read them', async (t) => {
  t.same([shortAge(5_000), shortAge(600_000), shortAge(3 * 3_600_000), shortAge(3 * 86_400_000)], ['5s', '10m', '3h', '3d'])
  const text = formatDeadLetters([{ webhook: 'x', id: 'msg_1', type: null, happened_at: 0, dead_at: null, reason: 'unknown', attempts: null }], ['x'], 86_400_000 * 3)
  t.match(text, /^x\s+msg_1\s+-\s+3d\s+-\s+-\s+unknown$/m)
})
