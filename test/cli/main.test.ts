import t from 'tap'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli.js'
import { EXIT_CODES } from '../../src/cli/usage.js'

function capture() {
  let text = ''
  return { write: (chunk: string) => void (text += chunk), get text() { return text } }
}

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  const stdout = capture()
  const stderr = capture()
  const code = await main(argv, { env, stdout, stderr })
  return { code, stdout: stdout.text, stderr: stderr.text }
}

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-cli-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('--help lists every command and exit code; no command is a usage error', async (t) => {
  const help = await run(['--help'])
  t.equal(help.code, 0)
  for (const word of ['run', 'check', 'notify', 'status', 'config check', 'webhook test', 'webhook dead [--name NAME] [--json]', 'webhook replay [--name NAME] [ID...]']) t.match(help.stdout, word)
  for (const [code] of EXIT_CODES) t.match(help.stdout, code)
  const bare = await run([])
  t.equal(bare.code, 2)
  t.match(bare.stderr, /Usage/i)
})

t.test('--version prints the version', async (t) => {
  const r = await run(['--version'])
  t.equal(r.code, 0)
  t.match(r.stdout, /^\d+\.\d+\.\d+/)
})

t.test('unknown commands and flags exit 2 naming them', async (t) => {
  const r = await run(['frobnicate'])
  t.equal(r.code, 2)
  t.match(r.stderr, /frobnicate/)
  t.equal((await run(['config', 'show'])).code, 2)
  t.equal((await run(['--config'])).code, 2)
})

t.test('config check: valid prints the redacted config, invalid exits 78 with key paths', async (t) => {
  const secret = join(dir, 's')
  writeFileSync(secret, 'whsec_dG9wc2VjcmV0LXRvcHNlY3JldC10b3BzZWNyZXQ=', { mode: 0o600 })
  const good = join(dir, 'good.yaml')
  writeFileSync(good, `node: n1\nwebhooks:\n  - { name: a, url: "https://x.test/", secret_file: ${secret} }\n`)
  const ok = await run(['config', 'check', '--config', good])
  t.equal(ok.code, 0)
  t.match(ok.stdout, 'node: n1')
  t.notMatch(ok.stdout, 'dG9wc2VjcmV0')

  const viaEnv = await run(['config', 'check'], { HA_AGENT_CONFIG: good })
  t.equal(viaEnv.code, 0, '$HA_AGENT_CONFIG is honoured')

  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'checks:\n  interval_ms: fast\nwat: 1\n')
  const r = await run(['config', 'check', '--config', bad])
  t.equal(r.code, 78)
  const lines = r.stderr.trim().split('\n')
  t.ok(lines.some((l) => l.startsWith('checks.interval_ms: ')), r.stderr)
  t.ok(lines.includes('wat: unknown key'), r.stderr)
})
