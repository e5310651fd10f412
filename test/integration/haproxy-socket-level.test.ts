// The shipped haproxy/haproxy.cfg, run by the real HAProxy: ha-agent's own
// socket (level user, group ha-agent, mode 660) serves everything ha-agent sends
// (`show info`, `show stat`, the `prompt` watch) to the ha-agent user without the
// haproxy group, and refuses every command that changes something; the admin
// socket stays the operator's; the stats page listens on loopback.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHaproxyWatch, haproxyCommand, parseShowStat } from '../../src/haproxy/index.js'
import { CLI } from '../fixtures/cli.js'
import { freePort, killProc, startProc, waitFor } from '../fixtures/procs.js'

const SHIPPED = fileURLToPath(new URL('../../haproxy/haproxy.cfg', import.meta.url))
const gid = (group: string) => {
  try {
    return Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2])
  } catch {
    return undefined
  }
}
const agentGid = gid('ha-agent')
if (agentGid === undefined || gid('haproxy') === undefined || process.getuid?.() !== 0) {
  t.plan(0, 'needs root and the ha-agent and haproxy groups (the lab or the .deb makes them)')
  process.exit(0)
}

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-haproxy-level-'))
chmodSync(dir, 0o755)
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const [pgPort, statsPort] = [await freePort(), await freePort()]
// The ha-agent user runs a copy of the bundle (entry and chunks): the checkout may
// live where it may not go (a fresh root's /root is 0700), as lab.sh does for its nodes.
cpSync(dirname(CLI), join(dir, 'bin'), { recursive: true, filter: (src) => !src.endsWith('.deb') })
const AGENT_CLI = join(dir, 'bin', 'ha-agent.js')
const agentSocket = join(dir, 'ha-agent.sock')
const adminSocket = join(dir, 'admin.sock')
const shipped = readFileSync(SHIPPED, 'utf8')
// Rendered as an operator fills it in (and the lab does): addresses, here free ports and a private directory.
const cfg = shipped
  .replaceAll('/run/haproxy/', `${dir}/`)
  .replace(/@PGBOUNCER[123]@/g, '127.0.0.1')
  .replace('bind *:5432', `bind 127.0.0.1:${pgPort}`)
  .replace('bind 127.0.0.1:8404', `bind 127.0.0.1:${statsPort}`)
writeFileSync(join(dir, 'haproxy.cfg'), cfg)
const haproxy = startProc(['haproxy', '-db', '-f', join(dir, 'haproxy.cfg')])
t.teardown(() => killProc(haproxy))
await waitFor('HAProxy sockets', () => {
  try {
    return statSync(agentSocket).isSocket() && statSync(adminSocket).isSocket()
  } catch {
    return undefined
  }
})

/** Runs a command as the ha-agent user with no supplementary group (not haproxy). */
function asAgent(args: string[]): { code: number; stdout: string } {
  try {
    const stdout = execFileSync('setpriv', ['--reuid=ha-agent', '--regid=ha-agent', '--clear-groups', '--', 'env', '-i', `PATH=${process.env.PATH}`, process.execPath, ...args], { encoding: 'utf8', cwd: dir })
    return { code: 0, stdout }
  } catch (err) {
    const e = err as { status: number; stdout: string }
    return { code: e.status, stdout: e.stdout }
  }
}

function agentConfig(name: string, socket: string): string {
  const path = join(dir, name)
  writeFileSync(path, [`node: t`, `state_dir: ${join(dir, 'state')}`, `runtime_dir: ${join(dir, 'run')}`, 'api: { listen: null }', 'checks:', '  timeout_ms: 5000', `  haproxy: { socket: ${socket}, backends: [] }`, ''].join('\n'), { mode: 0o644 })
  return path
}

t.test('the shipped file: a level-user socket for ha-agent, an admin socket, the stats page on loopback', async (t) => {
  t.match(shipped, /^\s*stats socket \/run\/haproxy\/ha-agent\.sock mode 660 level user group ha-agent$/m)
  t.match(shipped, /^\s*stats socket \/run\/haproxy\/admin\.sock mode 660 level admin group haproxy$/m)
  t.match(shipped, /^\s*bind 127\.0\.0\.1:8404$/m)
  t.notMatch(shipped, /bind \*:8404/)
  const st = statSync(agentSocket)
  t.equal(st.mode & 0o777, 0o660, 'ha-agent.sock is mode 660')
  t.equal(st.gid, agentGid, 'ha-agent.sock belongs to the ha-agent group')
})

t.test('`ha-agent check` as the ha-agent user, without the haproxy group: its socket works, the admin socket is closed to it', async (t) => {
  const ok = asAgent([AGENT_CLI, 'check', '--only', 'haproxy', '--json', '--timeout', '5000', '--config', agentConfig('agent.yaml', agentSocket)])
  const verdict = JSON.parse(ok.stdout)
  t.equal(ok.code, 0, `healthy over ha-agent.sock: ${ok.stdout}`)
  t.match(verdict.checks[0], { name: 'haproxy', status: 'pass', detail: /^HAProxy \d/ })
  const denied = asAgent([AGENT_CLI, 'check', '--only', 'haproxy', '--json', '--timeout', '5000', '--config', agentConfig('admin.yaml', adminSocket)])
  t.equal(denied.code, 1)
  t.match(JSON.parse(denied.stdout).checks[0].detail, `HAProxy socket ${adminSocket}: permission denied`)
})

t.test('the fast watch (prompt mode) holds its connection on the level-user socket', async (t) => {
  const watch = createHaproxyWatch({ socket: agentSocket, intervalMs: 50, timeoutMs: 500, onChange: () => {} })
  t.teardown(() => watch.stop())
  await waitFor('watch up', () => watch.current().up || undefined, 5000)
  await new Promise((r) => setTimeout(r, 300))
  t.same({ up: watch.current().up, detail: watch.current().detail }, { up: true, detail: 'runtime API answers' })
})

t.test('every command that changes HAProxy is refused on ha-agent.sock; the admin socket still takes them', async (t) => {
  const server = 'pgbouncers/pgbouncer1'
  const status = async () => parseShowStat(await haproxyCommand(agentSocket, 'show stat', 2000)).find((r) => `${r.pxname}/${r.svname}` === server)!.status
  const before = await status()
  for (const command of [
    `disable server ${server}`,
    `set server ${server} state maint`,
    `set server ${server} addr 10.9.9.9`,
    `set weight ${server} 0`,
    `shutdown sessions server ${server}`,
    'shutdown frontend postgres',
    'disable frontend postgres',
    'set maxconn global 1',
    'clear counters',
    'clear counters all',
    'show sess',
  ]) {
    t.match((await haproxyCommand(agentSocket, command, 2000)).trim(), /^Permission denied/, `"${command}" refused`)
  }
  t.equal(await status(), before, `${server} untouched (${before})`)
  t.equal((await haproxyCommand(adminSocket, `disable server ${server}`, 2000)).trim(), '', 'the operator can, over admin.sock')
  t.equal(await status(), 'MAINT', 'and it took effect: the refusals above were the level, not the command')
  await haproxyCommand(adminSocket, `enable server ${server}`, 2000)
})

t.test('show stat at level user hides server addresses, which ha-agent does not read', async (t) => {
  const row = (text: string) => parseShowStat(text).find((r) => r.svname === 'pgbouncer1')!
  t.equal(row(await haproxyCommand(agentSocket, 'show stat', 2000)).addr, '', 'no address on the user socket')
  t.match(row(await haproxyCommand(adminSocket, 'show stat', 2000)).addr, /^127\.0\.0\.1:\d+$/, 'the admin socket shows it')
})
