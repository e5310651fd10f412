// Dead letters and exec hooks through the built CLI and a real daemon: a
// receiver that answers 410 makes dead letters, `webhook dead` lists them, the
// receiver is fixed, `webhook replay` delivers them in their original order
// with their original webhook-id (with the daemon running, and without it);
// an exec hook beside it runs once per transition, in order.
import t from 'tap'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { runCli } from '../fixtures/cli.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'
import { startReceiver } from '../fixtures/receiver.js'
import { waitFor } from '../fixtures/procs.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-dead-replay-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const rx = await startReceiver(t)
rx.setDefault(410)
const secret = 'whsec_' + randomBytes(32).toString('base64')
writeFileSync(join(dir, 'ops.secret'), secret + '\n', { mode: 0o600 })
const hookLog = join(dir, 'hook.log')
const hook = join(dir, 'on-failover.sh')
writeFileSync(hook, `#!/bin/sh\necho "$HA_AGENT_EVENT_ID $HA_AGENT_INSTANCE $HA_AGENT_STATE" >> ${hookLog}\n`)
chmodSync(hook, 0o755)
const config = join(dir, 'agent.yaml')
writeFileSync(
  config,
  [
    'node: n1',
    `state_dir: ${join(dir, 'state')}`,
    `runtime_dir: ${join(dir, 'run')}`,
    'log_level: info',
    'api: { listen: null }',
    'webhooks:',
    `  - { name: ops, url: "${rx.url}", secret_file: ${join(dir, 'ops.secret')}, timeout_ms: 2000 }`,
    `  - { name: on-failover, format: exec, command: ["${hook}"], events: [vrrp.transition] }`,
    '',
  ].join('\n'),
)

let daemon = runDaemon(t, config)
process.once('exit', () => daemon.child.kill('SIGKILL'))
await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon start', 15_000)

const notify = async (instance: string, state: string) => {
  const r = await runCli(['notify', 'INSTANCE', instance, state, '100', '--config', config])
  if (r.code !== 0) throw new Error(`notify: ${r.stderr}`)
}
const deadJson = async () => {
  const r = await runCli(['webhook', 'dead', '--json', '--config', config])
  if (r.code !== 0) throw new Error(`webhook dead: ${r.stderr}`)
  return JSON.parse(r.stdout) as Array<{ webhook: string; id: string; type: string; reason: string; attempts: number }>
}

t.test('410 makes dead letters; `webhook dead` lists them; the exec hook ran for each, in order', async (t) => {
  for (const [i, s] of ['MASTER', 'BACKUP', 'FAULT'].entries()) await notify(`VI_${i}`, s)
  await waitFor('3 dead letters', async () => ((await deadJson()).length === 3 ? true : undefined), 15_000)
  const dead = await deadJson()
  const firstTry = rx.all.slice(0, 3).map((r) => r.headers['webhook-id'])
  t.same(dead.map((d) => d.id), firstTry, 'the ids the receiver saw, in order')
  t.match(dead, [0, 1, 2].map(() => ({ webhook: 'ops', type: 'vrrp.transition', reason: 'HTTP 410', attempts: 1 })))
  const text = await runCli(['webhook', 'dead', '--config', config])
  t.equal(text.code, 0)
  t.match(text.stdout, /^WEBHOOK\s+ID\s+TYPE\s+AGE\s+DIED\s+ATTEMPTS\s+LAST ERROR\n/)
  t.equal(text.stdout.match(/^ops\s+msg_\w+\s+vrrp\.transition\s+\S+\s+\S+ ago\s+1\s+HTTP 410$/gm)?.length, 3, text.stdout)

  await waitFor('hook ran 3 times', () => (existsSync(hookLog) && readFileSync(hookLog, 'utf8').trim().split('\n').length === 3 ? true : undefined))
  t.same(
    readFileSync(hookLog, 'utf8').trim().split('\n'),
    dead.map((d, i) => `${d.id} VI_${i} ${['MASTER', 'BACKUP', 'FAULT'][i]}`),
    'the same events, the same ids, in order, each once',
  )
})

t.test('the receiver is fixed: replay with the daemon running delivers them in order, same webhook-ids, signed', async (t) => {
  const dead = await deadJson()
  rx.setDefault(200)
  const before = rx.delivered.length
  const startedAt = performance.timeOrigin + performance.now()
  const r = await runCli(['webhook', 'replay', '--config', config])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'ops: 3 dead letters back in the queue\nthe daemon delivers them now, oldest first; `ha-agent status` shows what is pending\n')
  const got = (await rx.waitForDelivered(before + 3, 10_000)).slice(before)
  t.same(got.map((g) => g.headers['webhook-id']), dead.map((d) => d.id), 'original order, original webhook-id')
  t.comment(`first delivery ${(got[0]!.at - startedAt).toFixed(0)} ms after \`webhook replay\` started (which took ${r.ms.toFixed(0)} ms): the lane saw the files arrive`)
  const wh = new Webhook(secret)
  for (const g of got) t.match(wh.verify(g.body, g.headers as Record<string, string>), { type: 'vrrp.transition' }, 'verifies with the official library')
  t.same(await deadJson(), [])
  t.equal(readFileSync(hookLog, 'utf8').trim().split('\n').length, 3, 'the exec hook is not replayed: it never failed')
})

t.test('replay without a daemon: back in the queue, delivered when the daemon starts', async (t) => {
  rx.setDefault(410)
  await notify('VI_9', 'MASTER')
  await waitFor('a dead letter', async () => ((await deadJson()).length === 1 ? true : undefined), 15_000)
  const [dead] = await deadJson()
  t.equal(await daemon.stop(), 0, 'clean stop')
  rx.setDefault(200)
  const before = rx.delivered.length
  const r = await runCli(['webhook', 'replay', dead!.id, '--config', config])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'ops: 1 dead letter back in the queue\nno daemon is running: they go out, oldest first, when `ha-agent run` starts\n')
  t.equal(rx.delivered.length, before, 'nothing sent by the CLI itself')
  daemon = runDaemon(t, config)
  await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon restart', 15_000)
  const [got] = (await rx.waitForDelivered(before + 1, 10_000)).slice(before)
  t.equal(got!.headers['webhook-id'], dead!.id)
  t.match(got!.json(), { type: 'vrrp.transition', data: { instance: 'VI_9', state: 'MASTER' } })
  const unknown = await runCli(['webhook', 'replay', dead!.id, '--config', config])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, `not a dead letter: ${dead!.id}`)
})
