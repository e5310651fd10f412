// The system check through the built CLI inside a network namespace of its own,
// where the interface can really be down: a fresh namespace's loopback is DOWN.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ns = `hachk${randomBytes(3).toString('hex')}`
const dir = mkdtempSync(join(tmpdir(), 'ha-agent-checksys-'))
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString()
ip('netns', 'add', ns)
t.teardown(() => {
  try {
    ip('netns', 'del', ns)
  } catch {}
  rmSync(dir, { recursive: true, force: true })
})
ip('-n', ns, 'link', 'add', 'vrrp0', 'type', 'veth', 'peer', 'name', 'vrrp0peer')

const config = join(dir, 'agent.yaml')
writeFileSync(
  config,
  [`runtime_dir: ${join(dir, 'run')}`, `state_dir: ${join(dir, 'state')}`, 'checks:', '  system:', '    interface: vrrp0', '    vips: ["10.9.9.100/24"]', ''].join('\n'),
)
/** The built CLI in the namespace, with keepalived's near-empty environment. */
async function check() {
  const { spawn } = await import('node:child_process')
  const { CLI } = await import('../fixtures/cli.js')
  return new Promise<{ code: number | null; verdict: { healthy: boolean; checks: Array<{ detail: string; data: Record<string, unknown> }> } }>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'env', '-i', `PATH=${process.env.PATH}`, process.execPath, CLI, 'check', '--json', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) => {
      try {
        resolve({ code, verdict: JSON.parse(out) })
      } catch {
        reject(new Error(`no JSON from check (exit ${code}): ${out}${err}`))
      }
    })
  })
}

t.test('interface down: fail naming it; VIPs not held are only reported', async (t) => {
  const r = await check()
  t.equal(r.code, 1)
  t.match(r.verdict.checks[0], { detail: 'interface vrrp0 is down; holds no VIP', data: { operstate: 'down', vips_held: [] } })
})

t.test('interface up but its link has no carrier (peer down): fail with the kernel operstate', async (t) => {
  ip('-n', ns, 'link', 'set', 'vrrp0', 'up')
  const r = await check()
  t.equal(r.code, 1)
  t.match(r.verdict.checks[0], { detail: 'interface vrrp0 is lowerlayerdown; holds no VIP', data: { operstate: 'lowerlayerdown' } })
})

t.test('link up: pass; a VIP on it is reported held', async (t) => {
  ip('-n', ns, 'link', 'set', 'vrrp0peer', 'up')
  ip('-n', ns, 'addr', 'add', '10.9.9.100/24', 'dev', 'vrrp0')
  const r = await check()
  t.equal(r.code, 0, JSON.stringify(r.verdict))
  t.match(r.verdict.checks[0], { detail: 'interface vrrp0 up; holds 10.9.9.100/24', data: { operstate: 'up', vips_held: ['10.9.9.100/24'] } })
})

t.test('interface deleted: missing', async (t) => {
  ip('-n', ns, 'link', 'del', 'vrrp0')
  const r = await check()
  t.equal(r.code, 1)
  t.match(r.verdict.checks[0], { detail: /^interface vrrp0 is missing/, data: { operstate: 'missing' } })
})
