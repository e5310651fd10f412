// `ha-agent config check` as the unit's ExecStartPre runs it (its output lands in
// the journal): the built CLI in a fresh process.
import t from 'tap'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../fixtures/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-config-check-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function write(name: string, text: string, mode = 0o640): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  chmodSync(path, mode)
  return path
}

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'

t.test('prints the config with webhook and peer URLs as scheme://host:port/… and PostgreSQL passwords masked', async (t) => {
  const token = write('cluster.token', TOKEN + '\n')
  const secret = write('ops.secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n')
  const config = write(
    'config.yaml',
    [
      'node: ha1',
      'api: { listen: "10.0.1.11:9471" }',
      'checks:',
      '  postgres: { url: "postgresql://monitor:hunter2@127.0.0.1:5432/postgres?sslmode=require&password=pgpa55&sslpassword=k3ypa55" }',
      'webhooks:',
      `  - { name: slack, format: slack, url: "https://hooks.slack.com/services/T000/B000/sl4cks3cret" }`,
      `  - { name: ops, url: "https://ops.example.org/ha?token=tok3n", secret_file: ${secret} }`,
      'peers: ["https://scraper:pw@10.0.1.12:9471/peer-s3cret?token=tok3n"]',
      `cluster: { token_file: ${token} }`,
      '',
    ].join('\n'),
  )
  const r = await runCli(['config', 'check', '--config', config])
  t.equal(r.code, 0, r.stderr)
  for (const s of ['hunter2', 'pgpa55', 'k3ypa55', 'sl4cks3cret', 'tok3n', 'peer-s3cret', 'scraper', 'whsec_', TOKEN]) t.notOk(r.stdout.includes(s) || r.stderr.includes(s), `"${s}" not printed`)
  t.match(r.stdout, 'url: postgresql://monitor:***@127.0.0.1:5432/postgres?sslmode=require&password=***&sslpassword=***')
  t.match(r.stdout, 'url: https://hooks.slack.com:443/…')
  t.match(r.stdout, 'url: https://ops.example.org:443/…')
  t.match(r.stdout, '- https://10.0.1.12:9471/…')
  t.match(r.stdout, `token_file: ${token}`, 'the file names of secrets are shown, never their content')
})

t.test('a secret file others can read: exit 78 naming the key, the file and the fix', async (t) => {
  const open = write('open.token', TOKEN + '\n', 0o644)
  const config = write('open.yaml', `cluster: { token_file: ${open} }\n`)
  const r = await runCli(['config', 'check', '--config', config])
  t.equal(r.code, 78)
  t.match(r.stderr, `cluster.token_file: ${open} is readable by every user (mode 0644): chmod 0640 ${open}; chown root:ha-agent ${open}`)
  t.notMatch(r.stderr + r.stdout, TOKEN, 'and never its content')

  const key = write('open.key', '-----BEGIN PRIVATE KEY-----\n', 0o604)
  const tls = write('tls.yaml', `api: { tls: { cert_file: /nonexistent.crt, key_file: ${key} } }\n`)
  const r2 = await runCli(['config', 'check', '--config', tls])
  t.equal(r2.code, 78)
  t.match(r2.stderr, `api.tls.key_file: ${key} is readable by every user (mode 0604)`)
  t.match(r2.stderr, 'api.tls.cert_file: cannot read /nonexistent.crt')
})

t.test('an API on a non-loopback address without a token: exit 78, unless the operator says so', async (t) => {
  const config = write('wide.yaml', 'api: { listen: "0.0.0.0:9471" }\n')
  const r = await runCli(['config', 'check', '--config', config])
  t.equal(r.code, 78)
  t.match(r.stderr, 'api.listen: 0.0.0.0:9471 is reachable from other hosts and no token guards the API')
  const allowed = write('allowed.yaml', 'api: { listen: "0.0.0.0:9471", allow_unauthenticated: true }\n')
  const ok = await runCli(['config', 'check', '--config', allowed])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, 'allow_unauthenticated: true')
  const viaEnv = await runCli(['config', 'check', '--config', config], { env: { HA_AGENT_API_TOKEN: TOKEN } })
  t.equal(viaEnv.code, 0, `a token in the environment: ${viaEnv.stderr}`)
})
