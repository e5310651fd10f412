// node-cron is loaded only when a heartbeat is configured: the heartbeat still fires.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startReceiver } from '../fixtures/receiver.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-heartbeat-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const rx = await startReceiver(t)
const config = join(dir, 'agent.yaml')
writeFileSync(
  config,
  [`node: hb`, `state_dir: ${join(dir, 'state')}`, `runtime_dir: ${join(dir, 'run')}`, 'api: { listen: null }', 'heartbeat: "* * * * * *"', 'webhooks:', `  - { name: ops, url: "${rx.url}" }`, ''].join('\n'),
)

t.test('a heartbeat every second reaches the webhook', async (t) => {
  const daemon = runDaemon(t, config)
  await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon start', 15_000)
  const got = await rx.waitForDelivered(1, 10_000)
  t.match(got[0]!.json(), { type: 'agent.heartbeat', data: { node: 'hb' } })
  t.equal(await daemon.stop('SIGTERM'), 0)
})
