// Issue 13 and the role endpoints of issue 16 against real `ha-agent run`
// processes, no HAProxy or databases needed. Node A serves its API over HTTPS
// (api.tls, a certificate made here with openssl) with the cluster token; node B
// polls A over https:// with cluster.ca_file, and also has a webhook and a dead
// peer whose URLs hold secrets. Every surface is read as an operator reads it:
// `config check`, the daemon's log lines, GET /status, `ha-agent status`.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { httpCall } from '../../src/http/index.js'
import { runCli } from '../fixtures/cli.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'
import { freePort, startKeepalivedStandIn, waitFor } from '../fixtures/procs.js'
import { makeTestPki } from '../fixtures/tls.js'

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'
const SECRETS = ['tok3n', 's3cr3t', 'sl4ck', 'hunter2', 'pgpa55', 'f00dfeed']

const dir = mkdtempSync(join(tmpdir(), 'ha-security-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const pki = makeTestPki(t)
const tokenFile = join(dir, 'cluster.token')
writeFileSync(tokenFile, TOKEN + '\n', { mode: 0o640 })
const keepalivedPidFile = join(dir, 'keepalived.pid')
startKeepalivedStandIn(t, dir, keepalivedPidFile)
const [portA, portB, deadPort] = [await freePort(), await freePort(), await freePort()]

function writeConfig(name: string, lines: string[]): string {
  const path = join(dir, `${name}.yaml`)
  writeFileSync(
    path,
    [
      `node: ${name}`,
      `state_dir: ${join(dir, name, 'state')}`,
      `runtime_dir: ${join(dir, name, 'run')}`,
      'log_level: info',
      'checks: { interval_ms: 300, system: {} }',
      // keepalived "runs" (its pid file names a live process called keepalived): the role endpoints answer from the VRRP state
      `keepalived: { track_file: ${join(dir, name, 'run', 'fault')}, pid_file: ${keepalivedPidFile} }`,
      `cluster: { token_file: ${tokenFile}, poll_interval_ms: 300, poll_timeout_ms: 500${name === 'node-b' ? `, ca_file: ${pki.caCert}` : ''} }`,
      ...lines,
      '',
    ].join('\n'),
  )
  return path
}

const configA = writeConfig('node-a', [`api: { listen: "127.0.0.1:${portA}", tls: { cert_file: ${pki.serverCert}, key_file: ${pki.serverKey} } }`])
const configB = writeConfig('node-b', [
  `api: { listen: "127.0.0.1:${portB}" }`,
  'webhooks:',
  `  - { name: slack, format: slack, url: "http://127.0.0.1:${deadPort}/services/T0/B0/sl4ck?token=tok3n", timeout_ms: 200 }`,
  `peers: ["https://127.0.0.1:${portA}/peer-s3cr3t/?token=tok3n", "http://scraper:hunter2@192.0.2.1:9471/s3cr3t"]`,
])

const daemonA = runDaemon(t, configA)
const daemonB = runDaemon(t, configB)
process.once('exit', () => {
  daemonA.child.kill('SIGKILL')
  daemonB.child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})
await waitForLog(daemonA, (l) => l.msg === 'ha-agent daemon started', 'node A start', 20_000)
await waitForLog(daemonB, (l) => l.msg === 'ha-agent daemon started', 'node B start', 20_000)
for (const [config, state, priority] of [[configA, 'MASTER', '250'], [configB, 'BACKUP', '249']] as const) {
  const notify = await runCli(['notify', 'INSTANCE', 'VI_1', state, priority, '--config', config])
  if (notify.code !== 0) throw new Error(`notify failed: ${notify.stderr}`)
}

const apiA = `https://127.0.0.1:${portA}`
const apiB = `http://127.0.0.1:${portB}`
const get = (url: string, opts: { token?: string; method?: string } = {}) =>
  httpCall(url, { timeoutMs: 3000, ca: pki.pem.ca, method: opts.method ?? 'GET', headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} })

// B has polled A over https (the CA verified it, the token was accepted) and the dead peer failed.
let lastB = ''
const statusB = await waitFor('node B sees node A', async () => {
  const r = await get(`${apiB}/status`, { token: TOKEN })
  lastB = r.body
  const s = JSON.parse(r.body)
  return s.peers?.[0]?.reachable && s.peers?.[1]?.error && s.webhooks?.[0]?.last_error ? s : undefined
}, 20_000, 200).catch((err) => {
  throw new Error(`${err.message}; last /status of B: ${lastB}`)
})

t.test('peers over https:// with cluster.ca_file: node B reads node A', async (t) => {
  t.equal(statusB.peers[0].node, 'node-a')
  t.equal(statusB.peers[0].url, `https://127.0.0.1:${portA}/…`)
  t.equal(statusB.peers[1].url, 'http://192.0.2.1:9471/…', 'TEST-NET-1: never answers')
  t.equal(statusB.peers[1].reachable, false)
})

t.test('the token guards every route but the public ones, on a node with peers (B) and without (A)', async (t) => {
  for (const api of [apiA, apiB]) {
    for (const path of ['/status', '/metrics']) {
      t.equal((await get(api + path)).status, 401, `${api}${path} without a token`)
      t.equal((await get(api + path, { token: 'wrong-wrong-wrong-wrong' })).status, 401, `${api}${path} with a wrong token`)
      t.equal((await get(api + path, { token: TOKEN })).status, 200, `${api}${path} with the token`)
    }
    // the push stream peers listen to: the same token (with it, it never ends: test/api/stream.test.ts)
    t.equal((await get(`${api}/status/stream`)).status, 401, `${api}/status/stream without a token`)
    t.equal((await get(`${api}/status/stream`, { token: 'wrong-wrong-wrong-wrong' })).status, 401, `${api}/status/stream with a wrong token`)
    t.equal((await get(`${api}/healthz`)).status, 200, `${api}/healthz needs none`)
  }
})

t.test('role endpoints over real HTTPS, without a token', async (t) => {
  const master = await get(`${apiA}/master`)
  t.equal(master.status, 200, 'node A holds VI_1 as MASTER')
  t.same(JSON.parse(master.body), { role: 'MASTER', holds: true, reason: 'VI_1 is MASTER' })
  t.equal((await get(`${apiA}/master?instance=VI_1`)).status, 200)
  t.equal((await get(`${apiA}/master?instance=VI_2`)).status, 503)
  const backup = await get(`${apiA}/backup`)
  t.equal(backup.status, 503)
  t.same(JSON.parse(backup.body), { role: 'BACKUP', holds: false, reason: 'VI_1 is MASTER' })
  const head = await get(`${apiA}/master`, { method: 'HEAD' })
  t.equal(head.status, 200, 'HEAD')
  t.equal(head.body, '')
  t.equal((await get(`${apiB}/master`)).status, 503, 'node B is not MASTER')
  t.equal((await get(`${apiB}/backup?instance=VI_1`)).status, 200, 'node B is BACKUP')

  const status = JSON.parse((await get(`${apiA}/status`, { token: TOKEN })).body)
  const health = await get(`${apiA}/health`)
  t.equal(health.status, status.healthy ? 200 : 503, `/health agrees with /status (healthy: ${status.healthy})`)
  t.equal((await get(`${apiA}/health`, { method: 'HEAD' })).status, health.status)
})

t.test('no secret in /status, the daemon logs, `ha-agent status` or `config check`', async (t) => {
  const surfaces: Array<[string, string]> = [
    ['GET /status', (await get(`${apiB}/status`, { token: TOKEN })).body],
    ['the log of node B', daemonB.logs().map((l) => JSON.stringify(l)).join('\n')],
    ['the log of node A', daemonA.logs().map((l) => JSON.stringify(l)).join('\n')],
  ]
  const cliStatus = await runCli(['status', '--config', configB])
  t.equal(cliStatus.code, 0, cliStatus.stderr)
  surfaces.push(['ha-agent status', cliStatus.stdout + cliStatus.stderr])
  const cliJson = await runCli(['status', '--json', '--config', configB])
  surfaces.push(['ha-agent status --json', cliJson.stdout + cliJson.stderr])
  const check = await runCli(['config', 'check', '--config', configB])
  t.equal(check.code, 0, check.stderr)
  surfaces.push(['config check', check.stdout + check.stderr])
  for (const [where, text] of surfaces) {
    t.ok(text.length > 100, `${where} says something`)
    for (const secret of SECRETS) t.notOk(text.includes(secret), `${where}: "${secret}" not shown`)
  }
  t.match(cliStatus.stdout, 'node-a', '`ha-agent status` shows the peer by name')
  t.match(cliStatus.stdout, 'http://192.0.2.1:9471/… ', 'and the dead one by scheme://host:port/…')
  t.match(check.stdout, `https://127.0.0.1:${portA}/…`)
  t.match(check.stdout, 'http://192.0.2.1:9471/…')
  t.match(check.stdout, `http://127.0.0.1:${deadPort}/…`, 'the webhook URL too')
  const answers = daemonB.logs().find((l) => l.msg === 'peer answers')
  t.equal(answers?.peer, `https://127.0.0.1:${portA}/…`, 'B logged that A answers, naming it safely')
  const warn = daemonB.logs().find((l) => l.msg?.startsWith('the cluster token goes to this peer in clear text'))
  t.equal(warn?.peer, 'http://192.0.2.1:9471/…', 'the token-over-http warning names the peer safely')
})

t.test('`run` refuses an API others can reach without a token (exit 78)', async (t) => {
  const open = join(dir, 'open.yaml')
  writeFileSync(open, `node: open\nstate_dir: ${join(dir, 'open')}\nruntime_dir: ${join(dir, 'open-run')}\napi: { listen: "0.0.0.0:${await freePort()}" }\n`)
  const r = await runCli(['run', '--config', open], { timeoutMs: 15_000 })
  t.equal(r.code, 78)
  t.match(r.stderr, /api\.listen: 0\.0\.0\.0:\d+ is reachable from other hosts and no token guards the API/)
})

t.test('SIGHUP picks up a renewed certificate and a new token without dropping the listener', async (t) => {
  const renewed = makeTestPki(t)
  writeFileSync(pki.serverCert, renewed.pem.cert)
  writeFileSync(pki.serverKey, renewed.pem.key)
  const NEW_TOKEN = 'beefcafebeefcafebeefcafebeefcafe'
  writeFileSync(tokenFile, NEW_TOKEN + '\n')
  daemonA.child.kill('SIGHUP')
  await waitForLog(daemonA, (l) => l.msg === 'configuration reloaded', 'node A reload')
  const r = await httpCall(`${apiA}/status`, { timeoutMs: 3000, ca: renewed.pem.ca, headers: { authorization: `Bearer ${NEW_TOKEN}` } })
  t.equal(r.status, 200, 'the new certificate (another CA) and the new token')
  t.equal((await httpCall(`${apiA}/status`, { timeoutMs: 3000, ca: renewed.pem.ca, headers: { authorization: `Bearer ${TOKEN}` } })).status, 401, 'the old token no longer')
  await t.rejects(httpCall(`${apiA}/healthz`, { timeoutMs: 3000, ca: pki.pem.ca }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'the old CA no longer vouches for it')
  const reload = daemonA.logs().find((l) => l.msg === 'configuration reloaded')
  t.notOk(reload?.restarted?.includes('api'), `the API listener was kept (restarted: ${JSON.stringify(reload?.restarted)})`)
})
