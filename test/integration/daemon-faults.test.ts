// The daemon when it is the thing that breaks, as keepalived sees it: start and
// reload are all or nothing; a stopped, killed or frozen daemon neither pins
// FAULT nor leaves a stale "healthy"; a transition is recorded exactly once.
import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { startStack } from '../fixtures/stack.js'
import { startReceiver } from '../fixtures/receiver.js'
import { CLI, runCli } from '../fixtures/cli.js'
import { runDaemon, waitForLog } from '../fixtures/daemon.js'
import { freePort, misbehavingServer, waitFor } from '../fixtures/procs.js'

const stack = await startStack(t)
const rx = await startReceiver(t)
const trackFile = join(stack.dir, 'run', 'fault')
const runDir = join(stack.dir, 'run')

/** A config for this stack; `api` and the rest of the top level as given. */
function writeConfig(name: string, opts: { api?: string; extra?: string } = {}): string {
  const path = stack.writeAgentConfig(`webhooks:\n  - { name: ops, url: "${rx.url}", timeout_ms: 2000 }\n${opts.extra ?? ''}`, name)
  const text = readFileSync(path, 'utf8').replace('api: { listen: null }', `api: { listen: ${opts.api ?? 'null'} }`).replace('log_level: warn', 'log_level: info').replace(/checks:\n  timeout_ms: 1000/, 'checks:\n  timeout_ms: 1000\n  interval_ms: 300')
  writeFileSync(path, text)
  return path
}

const fetchJson = async (url: string) => (await fetch(url)).json() as Promise<any>
const track = () => (existsSync(trackFile) ? readFileSync(trackFile, 'utf8') : '')

t.test('start is all or nothing: a port in use stops what started and exits 1 with one line', async (t) => {
  const busy = createServer()
  const port = await freePort()
  await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r))
  t.teardown(() => busy.close())
  const config = writeConfig('busy.yaml', { api: `"127.0.0.1:${port}"` })
  const r = await runCli(['run', '--config', config], { timeoutMs: 15_000 })
  t.equal(r.code, 1)
  t.equal(r.stderr, `ha-agent: cannot start api: api.listen 127.0.0.1:${port}: address already in use (EADDRINUSE)\n`)
  t.notOk(existsSync(join(runDir, 'agent.sock')), 'the control socket that had started is gone again')
  const check = await runCli(['check', '--json', '--config', config])
  t.equal(JSON.parse(check.stdout).source, 'local', 'check no longer finds a daemon to believe')
})

t.test('config check rejects what run would fail on, exit 78 naming the key', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['api: { listen: "0.0.0.0:99999" }\n', /^api\.listen: port must be 1-65535$/m],
    ['heartbeat: "every five minutes"\n', /^heartbeat: invalid cron expression "every five minutes"/m],
    ['checks: { interval_ms: 3000000000 }\n', /^checks\.interval_ms: must be at most 2147483647 ms/m],
    ['webhooks: [{ name: a, url: "http://127.0.0.1:9/", max_age: 0 }]\n', /^webhooks\[0\]\.max_age: must be longer than 0/m],
  ]
  for (const [yaml, re] of cases) {
    const path = join(stack.dir, 'bad.yaml')
    writeFileSync(path, yaml)
    for (const cmd of [['config', 'check'], ['run']]) {
      const r = await runCli([...cmd, '--config', path], { timeoutMs: 15_000 })
      t.equal(r.code, 78, `${cmd.join(' ')}: ${yaml.trim()}`)
      t.match(r.stderr, re)
    }
  }
})

t.test('reload: a config that cannot run leaves the old one running whole, and says so', async (t) => {
  const apiPort = await freePort()
  const config = writeConfig('reload.yaml', { api: `"127.0.0.1:${apiPort}"` })
  const good = readFileSync(config, 'utf8')
  const d = runDaemon(t, config)
  await waitForLog(d, (l) => l.msg === 'ready', 'ready', 15_000)
  const api = `http://127.0.0.1:${apiPort}`

  const busy = createServer()
  const busyPort = await freePort()
  await new Promise<void>((r) => busy.listen(busyPort, '127.0.0.1', r))
  t.teardown(() => busy.close())
  writeFileSync(config, good.replace(`127.0.0.1:${apiPort}`, `127.0.0.1:${busyPort}`))
  d.child.kill('SIGHUP')
  await waitForLog(d, (l) => /^reload failed/.test(l.msg ?? ''), 'reload failed')
  const s = await fetchJson(`${api}/status`)
  t.match(s.reload, { ok: false, error: new RegExp(`cannot start api: api.listen 127.0.0.1:${busyPort}: address already in use`) })
  t.match(await (await fetch(`${api}/metrics`)).text(), /^ha_agent_config_last_reload_successful 0$/m)
  const c = await runCli(['check', '--json', '--config', config])
  t.equal(JSON.parse(c.stdout).source, 'daemon', 'the check loop and the control socket run on')

  writeFileSync(config, good + 'checks_typo: 1\n')
  d.child.kill('SIGHUP')
  await waitFor('second failure', async () => ((await fetchJson(`${api}/status`)).reload.error?.includes('checks_typo') ? true : undefined))

  const newPort = await freePort()
  writeFileSync(config, good.replace(`127.0.0.1:${apiPort}`, `127.0.0.1:${newPort}`))
  d.child.kill('SIGHUP')
  const moved = await waitFor('the new API', async () => {
    try {
      return await fetchJson(`http://127.0.0.1:${newPort}/status`)
    } catch {
      return undefined
    }
  })
  t.match(moved.reload, { ok: true, error: null })
  await t.rejects(fetch(`${api}/healthz`), 'the old listener is closed')
  t.equal(await d.stop(), 0)
})

t.test('daemon stopped, killed or frozen: check probes by itself and keeps the track_file truthful', async (t) => {
  const config = writeConfig('states.yaml', { extra: 'watchdog_ms: null\n' })
  const d = runDaemon(t, config)
  await waitForLog(d, (l) => l.msg === 'ready', 'ready', 15_000)
  t.equal(track(), '0\n')

  // Frozen (SIGSTOP): the socket accepts, nobody answers. check gives it 250 ms, then probes.
  d.child.kill('SIGSTOP')
  const frozen = await runCli(['check', '--json', '--config', config])
  t.equal(frozen.code, 0, 'all is well: the node keeps its weight')
  t.equal(JSON.parse(frozen.stdout).source, 'local')
  t.ok(frozen.ms < 1000 + 200 + 300, `answered in ${frozen.ms.toFixed(0)} ms`)
  // HAProxy dies while the daemon is frozen: no stale 0 turns fast failover off.
  await stack.haproxy.kill()
  const dead = await runCli(['check', '--config', config])
  t.equal(dead.code, 1)
  t.match(dead.stderr, /no daemon keeps .*fault: set to 1 \(HAProxy gone\)/)
  t.equal(track(), '1\n')
  // Thawed: the daemon takes the file back, from its own view.
  d.child.kill('SIGCONT')
  await stack.haproxy.start()
  await waitFor('daemon writes 0', () => (track() === '0\n' ? true : undefined), 10_000)

  // Killed (SIGKILL) with a fault on file: no stale 1 pins FAULT.
  await stack.haproxy.kill()
  await waitFor('daemon writes 1', () => (track() === '1\n' ? true : undefined), 5000)
  d.child.kill('SIGKILL')
  await d.exited
  await stack.haproxy.start()
  const after = await runCli(['check', '--only', 'haproxy', '--config', config])
  t.equal(after.code, 0, after.stdout + after.stderr)
  t.match(after.stderr, /set to 0 \(HAProxy answers\)/)
  t.equal(track(), '0\n', 'the node can hold the VIP again without its daemon')
  await waitFor('every check passes without the daemon', async () => ((await runCli(['check', '--config', config])).code === 0 ? true : undefined), 15_000, 200)
})

t.test('the watchdog kills a daemon whose event loop stands still; systemd would restart it', async (t) => {
  const config = writeConfig('watchdog.yaml', { extra: 'watchdog_ms: 1500\n' })
  const d = runDaemon(t, config)
  await waitForLog(d, (l) => l.msg === 'ready', 'ready', 15_000)
  const stoppedAt = Date.now()
  d.child.kill('SIGSTOP')
  await Promise.race([d.exited, new Promise((r) => setTimeout(r, 10_000))])
  const ms = Date.now() - stoppedAt
  t.equal(d.child.signalCode, 'SIGKILL')
  t.ok(ms >= 1400 && ms < 5000, `killed ${ms} ms after it froze`)
  t.ok(d.logs().some((l) => l.level === 'fatal' && /event loop stood still for 1500 ms/.test(l.msg)), 'says why, in the journal')
})

t.test('check is done at its deadline: the process exits once it has answered', async (t) => {
  const config = writeConfig('hung.yaml')
  rmSync(join(runDir, 'agent.sock'), { force: true }) // left by the daemon killed above
  const hung = await misbehavingServer(join(runDir, 'agent.sock'), () => {})
  t.teardown(() => hung.close())
  // every probe hangs too: PgBouncers and PostgreSQL behind a silent HAProxy socket are the slow path
  const cfg = readFileSync(config, 'utf8').replace(stack.haproxy.socket, join(runDir, 'agent.sock'))
  writeFileSync(config, cfg)
  const r = await runCli(['check', '--timeout', '800', '--config', config])
  t.equal(r.code, 1)
  t.ok(r.ms < 800 + 200 + 250, `the process lived ${r.ms.toFixed(0)} ms`)
})

t.test('a transition is recorded once: a daemon frozen while notify waits, then thawed', async (t) => {
  const config = writeConfig('once.yaml', { extra: 'watchdog_ms: null\n' })
  const d = runDaemon(t, config)
  await waitForLog(d, (l) => l.msg === 'ready', 'ready', 15_000)
  const before = rx.delivered.length
  d.child.kill('SIGSTOP')
  const r = await runCli(['notify', 'INSTANCE', 'VI_ONCE', 'MASTER', '200', '--config', config])
  t.equal(r.code, 0, r.stderr)
  d.child.kill('SIGCONT')
  const name = 'VI_' + 'L'.repeat(297)
  const long = await runCli(['notify', 'INSTANCE', name, 'BACKUP', '100', '--config', config])
  t.equal(long.code, 0, `a 300-character name: ${long.stderr}`)
  await rx.waitForDelivered(before + 2, 15_000)
  await new Promise((r) => setTimeout(r, 1500))
  const got = rx.delivered.slice(before).map((x) => x.json())
  t.equal(got.filter((e) => e.data.instance === 'VI_ONCE').length, 1, 'once, not twice')
  t.equal(got.filter((e) => e.data.instance === name).length, 1)
  t.equal(await d.stop(), 0)
})

t.test('fork order survives ProcSubset=pid (no /proc/uptime in the daemon\'s sandbox)', async (t) => {
  const config = writeConfig('subset.yaml', { extra: 'watchdog_ms: null\n' })
  // The daemon in a mount namespace whose /proc shows processes only, as systemd's ProcSubset=pid does.
  const inner = `mount -t proc -o subset=pid proc /proc && test ! -e /proc/uptime && test ! -e /proc/stat && exec "$0" "$@"`
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', inner, process.execPath, CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH! } })
  let out = ''
  child.stdout.on('data', (c) => (out += c))
  child.stderr.on('data', (c) => (out += c))
  t.teardown(() => child.kill('SIGKILL'))
  await waitFor('ready', () => (out.includes('"msg":"ready"') ? true : undefined), 15_000)
  const before = rx.delivered.length
  // Like keepalived: one parent forking notify processes back to back.
  execFileSync('sh', ['-c', `for i in 1 2 3 4 5 6 7 8; do env -i PATH="$PATH" "$0" "$1" notify GROUP G$i MASTER --config "$2" & done; wait`, process.execPath, CLI, config])
  const got = (await rx.waitForDelivered(before + 8, 15_000)).slice(before).map((x) => ({ id: String(x.headers['webhook-id']), instance: x.json().data.instance as string }))
  t.notMatch(out, /notify refused/, 'the daemon accepted every claim without /proc/uptime')
  t.ok(got.every((e) => /^msg_[0-9a-f]{24}$/.test(e.id)), 'every delivery carries its webhook-id')
  const byId = [...got].sort((a, b) => (a.id < b.id ? -1 : 1)).map((e) => e.instance)
  t.same(byId, ['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7', 'G8'], 'ids follow fork order')
  t.same(got.map((e) => e.instance), byId, 'and the receiver got them in that order')
  const ids = readdirSync(join(stack.dir, 'state', 'ledger'))
  t.ok(ids.length >= 8)
})

// keepalived forks MASTER then BACKUP milliseconds apart (the peer's advert came
// just late); the MASTER notify's Node.js may start last. Here it sleeps first,
// as a process keepalived forked and the scheduler left waiting.
async function raceNotifies(t: Test, config: string, instance: string, delayMs: number): Promise<Array<Record<string, unknown>>> {
  const before = rx.delivered.length
  const first = spawn('sh', ['-c', `sleep ${delayMs / 1000}; exec "$@"`, 'sh', process.execPath, CLI, 'notify', 'INSTANCE', instance, 'MASTER', '200', '--config', config], { stdio: 'ignore', env: { PATH: process.env.PATH! } })
  const firstExit = new Promise((r) => first.on('exit', r))
  await new Promise((r) => setTimeout(r, 30)) // a later kernel tick: a later fork order
  const second = await runCli(['notify', 'INSTANCE', instance, 'BACKUP', '100', '--config', config])
  t.equal(await firstExit, 0)
  t.equal(second.code, 0, second.stderr)
  return (await rx.waitForDelivered(before + 2, 15_000)).slice(before).map((x) => x.json().data)
}

t.test('the receiver gets transitions in fork order when the earlier notify starts last', async (t) => {
  const config = writeConfig('race.yaml', { extra: 'watchdog_ms: null\n' })
  writeFileSync(config, readFileSync(config, 'utf8').replace('log_level: info', 'log_level: debug'))
  const d = runDaemon(t, config)
  await waitForLog(d, (l) => l.msg === 'ready', 'ready', 15_000)

  t.test('a moment late: recorded in order, previous_state as keepalived went', async (t) => {
    const got = await raceNotifies(t, config, 'VI_RACE', 100)
    t.match(got, [
      { instance: 'VI_RACE', state: 'MASTER' },
      { instance: 'VI_RACE', state: 'BACKUP', previous_state: 'MASTER' },
    ])
    const status = JSON.parse((await runCli(['status', '--json', '--config', config])).stdout)
    t.match(status.instances.filter((i: { name: string }) => i.name === 'VI_RACE'), [{ state: 'BACKUP' }], 'the daemon holds the later state')
  })

  t.test('later than the daemon waits for it: still delivered in fork order', async (t) => {
    t.teardown(() => {
      if (!t.passing()) t.comment(d.logs().map((l) => JSON.stringify(l)).join('\n'))
    })
    // past the daemon's 600 ms and the later notify's 1 s: the later one is recorded first
    const got = await raceNotifies(t, config, 'VI_SLOW', 1500)
    t.match(got, [
      { instance: 'VI_SLOW', state: 'MASTER' },
      { instance: 'VI_SLOW', state: 'BACKUP' },
    ])
    await waitForLog(d, (l) => /notifies forked before it are still running/.test(l.msg ?? ''), 'the daemon says it recorded ahead of an earlier notify')
  })

  t.test('an ordinary transition is not held back', async (t) => {
    const before = rx.delivered.length
    const at = Date.now()
    const r = await runCli(['notify', 'INSTANCE', 'VI_ALONE', 'MASTER', '200', '--config', config])
    t.equal(r.code, 0, r.stderr)
    const [got] = (await rx.waitForDelivered(before + 1, 15_000)).slice(before)
    t.ok(got!.at - at < 1500, `delivered ${got!.at - at} ms after notify started`)
  })
})
