// Format alertmanager against the real Alertmanager (Debian package
// `prometheus-alertmanager`), started here on loopback: alerts fire, stay firing
// across an Alertmanager restart (the re-send brings them back), resolve; through
// a real outbox and dispatcher, and through `ha-agent run` with `ha-agent notify`.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { silentLogger } from '../../src/log/index.js'
import { openOutbox, replayDeadLetters } from '../../src/outbox/index.js'
import { startDispatcher } from '../../src/webhooks/index.js'
import { AMTOOL, startAlertmanager } from '../fixtures/alertmanager.js'
import { runCli } from '../fixtures/cli.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'
import { waitFor } from '../fixtures/procs.js'
import { startReceiver, type Received } from '../fixtures/receiver.js'

const vrrp = (state: string, instance = 'VI_1') => ({
  type: 'vrrp.transition' as const,
  data: { node: 'ha1', instance, kind: 'INSTANCE', state, previous_state: null, priority: 100, source: 'notify' },
})
/** Alertmanager's own webhook notifications (version 4) for one alert name */
const notifications = (rx: { all: Received[] }, alertname: string) =>
  rx.all.map((r) => r.json()).filter((n: any) => n.alerts?.some((a: any) => a.labels.alertname === alertname))

function dispatcherSetup(t: { teardown(fn: () => unknown): void }, amUrl: string, resend: string) {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-am-it-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const config = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'am', url: amUrl, format: 'alertmanager', resend_interval: resend, labels: { pair: 'pg-main' } }] }, null)
  const outbox = openOutbox({ stateDir, webhooks: config.webhooks })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  return { stateDir, config, outbox, d }
}

t.test('outbox + dispatcher: FAULT fires, stays firing across an Alertmanager restart, MASTER resolves', async (t) => {
  const rx = await startReceiver(t)
  const am = await startAlertmanager(t, { notify: rx.url })
  const { outbox, d } = dispatcherSetup(t, am.url, '1s')

  const fault = await outbox.append(vrrp('FAULT'))
  t.match(await d.waitFor(fault.id, 5000), [{ webhook: 'am', result: 'delivered' }])
  const [firing, ...more] = await am.alerts({ alertname: 'HaAgentVrrpFault' })
  t.equal(more.length, 0, 'one alert')
  t.same(firing!.labels, { alertname: 'HaAgentVrrpFault', node: 'ha1', vrrp_instance: 'VI_1', severity: 'warning', pair: 'pg-main' }, 'labels exactly as designed')
  t.equal(firing!.status.state, 'active')
  t.equal(Date.parse(firing!.startsAt), Date.parse(fault.timestamp))
  t.match(firing!.annotations, { summary: 'VI_1 is in FAULT on ha1', description: /cannot hold the virtual IP/ })

  const q = await am.amtool(['alert', 'query', '-o', 'json', 'alertname=HaAgentVrrpFault'])
  t.equal(q.code, 0, q.stderr)
  t.match(JSON.parse(q.stdout), [{ labels: { vrrp_instance: 'VI_1', node: 'ha1' } }], 'amtool sees it')

  const note = await waitFor('Alertmanager notifies its receiver', () => notifications(rx, 'HaAgentVrrpFault').find((n: any) => n.status === 'firing'), 10_000)
  t.match(note, { status: 'firing', groupLabels: { alertname: 'HaAgentVrrpFault', vrrp_instance: 'VI_1' }, alerts: [{ labels: { node: 'ha1' } }] })

  // Alertmanager keeps no alerts on disk: restarted, it knows only what is sent again.
  await am.restart()
  const back = await waitFor('the alert back after the restart', async () => (await am.alerts({ alertname: 'HaAgentVrrpFault' }))[0], 5000, 100)
  t.equal(back.fingerprint, firing!.fingerprint, 'the same alert')
  t.equal(Date.parse(back.startsAt), Date.parse(fault.timestamp), 'still firing since the FAULT')

  const master = await outbox.append(vrrp('MASTER'))
  t.match(await d.waitFor(master.id, 5000), [{ webhook: 'am', result: 'delivered' }])
  t.same(await am.alerts({ alertname: 'HaAgentVrrpFault' }), [], 'resolved: it left the active alerts at once')
  t.same(await am.alerts(), [], 'nothing else fires (the stopped alert was only ever resolved)')
  const resolved = await waitFor('the resolved notification', () => notifications(rx, 'HaAgentVrrpFault').find((n: any) => n.status === 'resolved'), 10_000)
  t.match(resolved, { alerts: [{ status: 'resolved', labels: { vrrp_instance: 'VI_1' } }] })
  await new Promise((r) => setTimeout(r, 1500))
  t.same(await am.alerts(), [], 'the re-sends do not bring it back')
})

t.test('ha-agent gone: Alertmanager ends its alerts by itself 4 resend intervals after the last one', async (t) => {
  const am = await startAlertmanager(t)
  const { outbox, d } = dispatcherSetup(t, am.url, '1s')
  const fault = await outbox.append(vrrp('FAULT', 'VI_7'))
  await d.waitFor(fault.id, 5000)
  await new Promise((r) => setTimeout(r, 1200))
  await d.stop()
  const stoppedAt = Date.now()
  const [a] = await am.alerts({ alertname: 'HaAgentVrrpFault' })
  const left = Date.parse(a!.endsAt) - stoppedAt
  t.ok(left > 2500 && left <= 4100, `ends about 4 s (4 x 1s) after the last send: ${left} ms from the stop`)
  await new Promise((r) => setTimeout(r, 2000))
  t.equal((await am.alerts({ alertname: 'HaAgentVrrpFault' })).length, 1, 'still firing 2 s later')
  await waitFor('Alertmanager resolves it', async () => ((await am.alerts({ alertname: 'HaAgentVrrpFault' })).length === 0 ? true : undefined), 4000, 100)
  t.ok(Date.now() - stoppedAt < 5000)
})

t.test('`ha-agent run` with `ha-agent notify`: alerts fire, and converge with what holds after a restart', async (t) => {
  const am = await startAlertmanager(t)
  const ops = await startReceiver(t)
  ops.setDefault(410) // a receiver that refuses everything: dead letters
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-am-run-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const stateDir = join(dir, 'state')
  const configPath = join(dir, 'agent.yaml')
  const writeConfig = (iface: string | null) =>
    writeFileSync(
      configPath,
      [
        'node: ha-am',
        `state_dir: ${stateDir}`,
        `runtime_dir: ${join(dir, 'run')}`,
        'log_level: info',
        'api: { listen: null }',
        'checks:',
        '  interval_ms: 300',
        '  fall: 2',
        '  rise: 2',
        `  system: ${iface ? `{ interface: ${iface} }` : '{}'}`,
        `keepalived: { track_file: ${join(dir, 'run', 'fault')}, pid_file: null }`,
        'webhooks:',
        // 3s: Alertmanager would end an alert by itself 12 s after the last send; the convergence below is quicker.
        `  - { name: am, url: "${am.url}", format: alertmanager, resend_interval: 3s }`,
        `  - { name: ops, url: "${ops.url}" }`,
        '',
      ].join('\n'),
    )
  writeConfig('nosuch0') // the system check fails: no such interface
  let daemon = runDaemon(t, configPath)
  await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon start', 15_000)

  const notify = await runCli(['notify', 'INSTANCE', 'VI_1', 'FAULT', '100', '--config', configPath])
  t.equal(notify.code, 0, notify.stderr)
  const fault = await waitFor('HaAgentVrrpFault', async () => (await am.alerts({ alertname: 'HaAgentVrrpFault' }))[0], 10_000, 100)
  t.same(fault.labels, { alertname: 'HaAgentVrrpFault', node: 'ha-am', vrrp_instance: 'VI_1', severity: 'warning' })
  const check = await waitFor('HaAgentCheckFailing', async () => (await am.alerts({ alertname: 'HaAgentCheckFailing' }))[0], 10_000, 100)
  t.same(check.labels, { alertname: 'HaAgentCheckFailing', node: 'ha-am', check: 'system', severity: 'warning' })
  t.match(check.annotations.description, /nosuch0/)
  const dead = await waitFor('HaAgentDeadLetters', async () => (await am.alerts({ alertname: 'HaAgentDeadLetters' }))[0], 10_000, 100)
  t.same(dead.labels, { alertname: 'HaAgentDeadLetters', node: 'ha-am', webhook: 'ops', severity: 'warning' })
  t.equal((await am.alerts()).filter((a) => 'instance' in a.labels).length, 0, 'no alert has an `instance` label')

  const test = await runCli(['webhook', 'test', '--name', 'am', '--config', configPath])
  t.equal(test.code, 0, test.stdout + test.stderr)
  const [testAlert] = await am.alerts({ alertname: 'HaAgentTest' })
  t.match(testAlert, { labels: { node: 'ha-am', severity: 'info', test_id: /^msg_/ } }, 'webhook test: a test alert, there when the command returns')
  t.ok(Date.parse(testAlert!.endsAt) - Date.now() > 290_000, 'that ends by itself in 5 minutes')

  // The daemon stops; meanwhile keepalived reports MASTER (recorded by notify alone),
  // the check is fixed, and the dead letters are replayed to a receiver that now takes them.
  const endsBefore = Math.min(...(await am.alerts()).filter((a) => a.labels.alertname !== 'HaAgentTest').map((a) => Date.parse(a.endsAt)))
  t.equal(await daemon.stop(), 0)
  const master = await runCli(['notify', 'INSTANCE', 'VI_1', 'MASTER', '100', '--config', configPath])
  t.equal(master.code, 0, master.stderr)
  writeConfig(null)
  ops.setDefault(200)
  t.ok(replayDeadLetters(stateDir, 'ops').length > 0, 'dead letters replayed')
  const book = JSON.parse(readFileSync(join(stateDir, 'alertmanager', 'am.json'), 'utf8'))
  t.same(book.alerts.map((a: any) => a.labels.alertname).sort(), ['HaAgentCheckFailing', 'HaAgentDeadLetters', 'HaAgentTest', 'HaAgentVrrpFault'], 'the firing alerts were kept')

  daemon = runDaemon(t, configPath)
  await waitForLog(daemon, (l) => l.msg === 'ha-agent daemon started', 'daemon restart', 15_000)
  const gone = (alertname: string) => waitFor(`${alertname} resolved`, async () => ((await am.alerts({ alertname })).length === 0 ? Date.now() : undefined), 10_000, 100)
  t.ok((await gone('HaAgentVrrpFault')) < endsBefore, 'the queued MASTER resolved the FAULT (before Alertmanager would have ended it)')
  t.ok((await gone('HaAgentCheckFailing')) < endsBefore, 'the check passes now: resolved though no check.recovered ever came')
  t.ok((await gone('HaAgentDeadLetters')) < endsBefore, 'no dead letters left: resolved')
  t.equal((await am.alerts({ alertname: 'HaAgentTest' })).length, 1, 'the test alert runs its 5 minutes')
  t.ok(daemon.logs().some((l) => l.msg === 'Alertmanager alerts brought in line with what holds now'), 'the daemon says what it resolved')
  t.equal(await daemon.stop(), 0)
})

t.test('docs/alertmanager.md: its Alertmanager configuration passes amtool check-config', async (t) => {
  const doc = readFileSync(new URL('../../docs/alertmanager.md', import.meta.url), 'utf8')
  const block = /```yaml\n(# alertmanager\.yml\n[\s\S]*?)```/.exec(doc)?.[1]
  t.ok(block, 'the docs have an alertmanager.yml block')
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-am-doc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'alertmanager.yml'), block!)
  const out = execFileSync(AMTOOL, ['check-config', join(dir, 'alertmanager.yml')], { encoding: 'utf8' })
  t.match(out, /SUCCESS/)
  t.match(out, /2 inhibit rules/)
})
