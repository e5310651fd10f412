import t from 'tap'
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, buildConfig, redactedConfig, parseDuration, type AgentConfig } from '../../src/config/index.js'
import { ConfigError } from '../../src/errors/index.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function write(name: string, text: string, mode = 0o640): string {
  const path = join(dir, name)
  writeFileSync(path, text, { mode })
  chmodSync(path, mode)
  return path
}

async function problemsOf(fn: () => unknown): Promise<string[]> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`)
    throw err
  }
  throw new Error('expected a ConfigError')
}

const secretPath = write('hook.secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n')
const pgPass = write('pg.pass', 'monitor-pw\n')

const goodYaml = `
node: haproxy1
checks:
  interval_ms: 500
  haproxy:
    socket: /run/haproxy/admin.sock
    backends: [{ name: pgbouncers, min_up: 1 }]
  postgres:
    url: postgres://monitor@127.0.0.1:5432/postgres
    password_file: ${pgPass}
webhooks:
  - name: ops
    url: https://hooks.example.test/ha
    secret_file: ${secretPath}
    max_age: 24h
`

t.test('a valid file loads with defaults, secrets hidden and frozen', async (t) => {
  const config = await loadConfig(write('good.yaml', goodYaml))
  t.equal(config.node, 'haproxy1')
  t.equal(config.checks.interval_ms, 500)
  t.same(config.webhooks[0]!.secrets, ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'secret read from its file, trimmed')
  t.equal(config.checks.postgres!.password, 'monitor-pw')
  t.notOk(Object.keys(config.webhooks[0]!).includes('secrets'), 'secrets are not enumerable')
  t.notMatch(JSON.stringify(config), /whsec_|monitor-pw/, 'secrets never serialise')
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.checks.haproxy), 'deeply frozen')
  t.throws(() => {
    ;(config as { node: string }).node = 'x'
  }, TypeError)
  t.equal(config.configPath, join(dir, 'good.yaml'))
})

t.test('every problem is reported with its key path', async (t) => {
  const problems = await problemsOf(() =>
    loadConfig(
      write(
        'bad.yaml',
        `
bogus: 1
checks:
  interval_ms: -5
  haproxy: { socket: "", backends: [{ name: pgb, min_up: 0, extra: yes }] }
webhooks:
  - { name: ops, url: "not a url", format: teams }
  - { name: ops, url: "https://x.test/" }
`,
      ),
    ),
  )
  t.ok(problems.includes('bogus: unknown key'), problems.join('\n'))
  t.ok(problems.includes('checks.haproxy.backends[0].extra: unknown key'))
  t.ok(problems.some((p) => p.startsWith('checks.interval_ms: ')))
  t.ok(problems.some((p) => p.startsWith('checks.haproxy.socket: ')))
  t.ok(problems.some((p) => p.startsWith('webhooks[0].url: ')))
  t.ok(problems.some((p) => p.startsWith('webhooks[0].format: ')))
})

t.test('a misspelt event type in a webhook\'s events: is an error, not a webhook that silently gets nothing', async (t) => {
  const problems = await problemsOf(() => loadConfig(write('events.yaml', 'webhooks:\n  - { name: ops, url: "https://x.test/", events: [vrrp.transition, vrrp.transitions] }\n')))
  t.same(problems, ['webhooks[0].events[1]: unknown event type "vrrp.transitions": one of vrrp.transition, check.failed, check.recovered, cluster.split_brain, cluster.split_brain_resolved, cluster.flap_damped, vrrp.switchover, agent.maintenance, agent.heartbeat, agent.test'])
  const ok = await loadConfig(write('events-ok.yaml', 'webhooks:\n  - { name: ops, url: "https://x.test/", events: [vrrp.transition, cluster.split_brain] }\n'))
  t.same(ok.webhooks[0]!.events, ['vrrp.transition', 'cluster.split_brain'])
})

t.test('semantic problems: duplicate webhook names, unreadable secret, pagerduty without key', async (t) => {
  const problems = await problemsOf(() =>
    buildConfig(
      {
        webhooks: [
          { name: 'a', url: 'https://x.test/', secret_file: join(dir, 'missing.secret') },
          { name: 'a', url: 'https://y.test/' },
          { name: 'pd', url: 'https://events.pagerduty.test/v2/enqueue', format: 'pagerduty' },
        ],
      },
      null,
    ),
  )
  t.ok(problems.some((p) => p.startsWith('webhooks[0].secret_file: cannot read ') && p.includes('ENOENT')), problems.join('\n'))
  t.ok(problems.includes('webhooks[1].name: duplicate webhook name "a"'))
  t.ok(problems.some((p) => p.startsWith('webhooks[2].routing_key_file: required for format pagerduty')))
})

t.test('secrets can come from the environment', async (t) => {
  const config = buildConfig(
    { webhooks: [{ name: 'pd-ops', url: 'https://events.test/', format: 'pagerduty' }] },
    null,
    { env: { HA_AGENT_WEBHOOK_PD_OPS_ROUTING_KEY: 'R0UT1NG' } },
  )
  t.equal(config.webhooks[0]!.routingKey, 'R0UT1NG')
})

t.test('file-level errors name the file', async (t) => {
  t.match(await problemsOf(() => loadConfig(join(dir, 'nope.yaml'))), [/^config: cannot read .*nope\.yaml: .*ENOENT/])
  t.match(await problemsOf(() => loadConfig(write('syntax.yaml', 'checks: [unclosed\n'))), [/^config: .*syntax\.yaml: YAML syntax error at line \d+/])
  t.match(await problemsOf(() => loadConfig(write('list.yaml', '- a\n- b\n'))), [/expected a mapping/])
  t.match(await problemsOf(() => loadConfig(write('dup.yaml', 'node: a\nnode: b\n'))), [/YAML syntax error/], 'duplicate keys are an error, not last-one-wins')
  const unreadable = write('unreadable.yaml', 'node: a\n')
  chmodSync(unreadable, 0o000)
  // root reads anything; only assert the permission path where it applies
  if (process.getuid?.() !== 0) t.match(await problemsOf(() => loadConfig(unreadable)), [/EACCES/])
})

t.test('an empty file is the all-defaults config', async (t) => {
  const config = await loadConfig(write('empty.yaml', ''), { hostname: 'fallback-host' })
  t.equal(config.node, 'fallback-host')
  t.same(config.webhooks, [])
  t.equal(config.api.listen, '127.0.0.1:9471', 'API listens on loopback by default')
})

t.test('redactedConfig masks URL passwords and carries no secrets', async (t) => {
  const config: AgentConfig = buildConfig(
    {
      checks: { postgres: { url: 'postgres://monitor:hunter2@10.0.0.5:5432/postgres' } },
      webhooks: [{ name: 'a', url: 'https://user:tok3n@x.test/hook', secret_file: secretPath }],
    },
    null,
  )
  const text = JSON.stringify(redactedConfig(config))
  t.notMatch(text, /hunter2|tok3n|whsec_/)
  t.match(text, /monitor:\*\*\*@10\.0\.0\.5/)
})

t.test('parseDuration', async (t) => {
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('30s'), 30_000)
  t.equal(parseDuration('1.5m'), 90_000)
  t.equal(parseDuration('24h'), 86_400_000)
  t.equal(parseDuration('7d'), 604_800_000)
  t.equal(parseDuration(250), 250)
  t.equal(parseDuration('soon'), undefined)
  t.equal(parseDuration(-1), undefined)
})

t.test('limits: what `run` would fail on is rejected here, naming the key', async (t) => {
  const problems = await problemsOf(() =>
    buildConfig(
      {
        api: { listen: '0.0.0.0:99999' },
        watchdog_ms: 10,
        checks: { interval_ms: 3_000_000_000, timeout_ms: 0, pgbouncer: { targets: ['10.0.0.1:0'] } },
        outbox: { max_bytes: 'lots', dead_letter_max_age: '0s' },
        cluster: { poll_interval_ms: Number.POSITIVE_INFINITY },
        webhooks: [{ name: 'ops', url: 'https://x.test/', max_age: 0 }, { name: 'slow', url: 'https://y.test/', max_age: '400d' }],
      },
      null,
    ),
  )
  const has = (prefix: string, re: RegExp) => t.ok(problems.some((p) => p.startsWith(prefix) && re.test(p)), `${prefix} ${re}\n${problems.join('\n')}`)
  has('api.listen: ', /port must be 1-65535/)
  has('checks.pgbouncer.targets[0]: ', /port must be 1-65535/)
  has('checks.interval_ms: ', /at most 2147483647 ms/)
  has('checks.timeout_ms: ', /./)
  has('watchdog_ms: ', /at least 1000 ms/)
  has('cluster.poll_interval_ms: ', /./)
  has('outbox.max_bytes: ', /invalid size "lots"/)
  has('outbox.dead_letter_max_age: ', /longer than 0/)
  has('webhooks[0].max_age: ', /longer than 0/)
  has('webhooks[1].max_age: ', /at most 365d/)
})

t.test('the heartbeat schedule is checked with node-cron when the config is loaded in full', async (t) => {
  const path = write('cron.yaml', 'heartbeat: "every five minutes"\n')
  t.same(await problemsOf(() => loadConfig(path)), ['heartbeat: invalid cron expression "every five minutes" (e.g. "0 9 * * *": daily at 09:00)'])
  t.equal((await loadConfig(path, { purpose: 'check' })).heartbeat, 'every five minutes', '`check` does not care about the heartbeat')
  t.equal((await loadConfig(write('cron-ok.yaml', 'heartbeat: "*/5 * * * *"\n'))).heartbeat, '*/5 * * * *')
})

t.test('sizes and durations in operator units', async (t) => {
  const config = await loadConfig(write('units.yaml', 'outbox: { max_bytes: 64MiB, dead_letter_max_age: 30d }\n'))
  t.equal(config.outbox.max_bytes, 64 * 2 ** 20)
  t.equal(config.outbox.dead_letter_max_age, 30 * 86_400_000)
})

t.test('a secret file every user can read is refused, naming the file and the fix', async (t) => {
  const open = write('open.secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n', 0o644)
  const problems = await problemsOf(() => buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: open }] }, null))
  t.same(problems, [`webhooks[0].secret_file: ${open} is readable by every user (mode 0644): chmod 0640 ${open}; chown root:ha-agent ${open}`])
  const writable = write('writable.pass', 'pw\n', 0o602)
  t.match(await problemsOf(() => buildConfig({ checks: { postgres: { url: 'postgres://m@h/db', password_file: writable } } }, null)), [/checks\.postgres\.password_file: .* is writable by every user \(mode 0602\)/])
  const tight = write('tight.secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n', 0o600)
  t.same(buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: tight }] }, null).webhooks[0]!.secrets, ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'])
})

t.test('`check` loads only the checks\' secrets: a webhook secret it cannot read does not fail it', async (t) => {
  const doc = { webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: join(dir, 'not-for-check.secret') }], checks: { postgres: { url: 'postgres://m@h/db', password_file: pgPass } } }
  t.match(await problemsOf(() => buildConfig(doc, null)), [/webhooks\[0\]\.secret_file: cannot read .*ENOENT/])
  const config = buildConfig(doc, null, { purpose: 'check' })
  t.equal(config.checks.postgres!.password, 'monitor-pw')
  t.equal(config.webhooks[0]!.secrets, undefined)
})

const KEY_A = 'whsec_' + Buffer.alloc(32, 1).toString('base64')
const KEY_B = 'whsec_' + Buffer.alloc(32, 2).toString('base64')

t.test('webhook secrets are whsec_ + base64 of at least 24 bytes; anything else names the file and how to make one', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['plain-secret-without-prefix', /does not start with whsec_/],
    ['whsec_not base64!', /is not whsec_ followed by base64/],
    ['whsec_abc', /is not whsec_ followed by base64/],
    ['whsec_', /is not whsec_ followed by base64/],
    ['whsec_dGVzdA==', /holds a 4-byte key; use at least 24 random bytes/],
  ]
  for (const [content, why] of cases) {
    const file = write('bad.secret', content + '\n', 0o600)
    const problems = await problemsOf(() => buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: file }] }, null))
    t.equal(problems.length, 1, content)
    t.ok(problems[0]!.startsWith(`webhooks[0].secret_file: ${file} `), problems[0]!)
    t.match(problems[0], why)
    t.match(problems[0], `printf 'whsec_%s\\n' "$(head -c 32 /dev/urandom | base64)" > ${file}`, 'says how to make one')
    if (content.length > 10) t.notMatch(problems[0]!, content.slice(6), 'never repeats the secret')
  }
  const env = await problemsOf(() => buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/' }] }, null, { env: { HA_AGENT_WEBHOOK_OPS_SECRET: 'hunter2-hunter2-hunter2-hunter2' } }))
  t.match(env, [/^webhooks\[0\]\.secret_file: \$HA_AGENT_WEBHOOK_OPS_SECRET does not start with whsec_/])
  t.notMatch(env[0], 'hunter2')
})

t.test('several secrets: a list of files, or several in the environment; in order, hidden', async (t) => {
  const a = write('a.secret', KEY_A + '\n', 0o600)
  const b = write('b.secret', KEY_B, 0o600)
  const config = buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: [a, b] }] }, null)
  t.same(config.webhooks[0]!.secrets, [KEY_A, KEY_B])
  t.notMatch(JSON.stringify(config), /whsec_/)
  t.ok(Object.isFrozen(config.webhooks[0]!.secrets))
  const fromEnv = buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/' }] }, null, { env: { HA_AGENT_WEBHOOK_OPS_SECRET: ` ${KEY_A}  ${KEY_B}\n` } })
  t.same(fromEnv.webhooks[0]!.secrets, [KEY_A, KEY_B])
  const bad = write('c.secret', 'nope-nope-nope-nope-nope-nope', 0o600)
  t.match(await problemsOf(() => buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: [a, bad] }] }, null)), [/^webhooks\[0\]\.secret_file\[1\]: .*c\.secret does not start with whsec_/])
  t.match(await problemsOf(() => buildConfig({ webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: [] }] }, null)), [/^webhooks\[0\]\.secret_file: /])
})

t.test('format exec: command is an argv list with an absolute program; no url, no secret', async (t) => {
  const config = buildConfig({ webhooks: [{ name: 'hook', format: 'exec', command: ['/usr/local/bin/on-failover', '--quiet'], timeout_ms: 30000 }] }, null)
  t.match(config.webhooks[0], { name: 'hook', format: 'exec', command: ['/usr/local/bin/on-failover', '--quiet'], timeout_ms: 30000 })
  t.equal(config.webhooks[0]!.url, undefined)
  const problems = await problemsOf(() =>
    buildConfig(
      {
        webhooks: [
          { name: 'a', format: 'exec', command: ['on-failover'] },
          { name: 'b', format: 'exec' },
          { name: 'c', format: 'exec', command: ['/bin/true'], url: 'https://x.test/', secret_file: secretPath },
          { name: 'd', format: 'standard', command: ['/bin/true'] },
          { name: 'e', format: 'slack' },
          { name: 'f', format: 'exec', command: [] },
          { name: 'g', format: 'exec', command: '/bin/true' },
        ],
      },
      null,
    ),
  )
  const has = (line: RegExp) => t.ok(problems.some((p) => line.test(p)), `${line}\n${problems.join('\n')}`)
  has(/^webhooks\[0\]\.command: argv\[0\] must be an absolute path/)
  has(/^webhooks\[1\]\.command: required for format exec/)
  has(/^webhooks\[2\]\.url: not used by format exec/)
  has(/^webhooks\[2\]\.secret_file: not used by format exec/)
  has(/^webhooks\[3\]\.command: only for format exec/)
  has(/^webhooks\[4\]\.url: required for format slack/)
  has(/^webhooks\[5\]\.command: needs at least the program/)
  has(/^webhooks\[6\]\.command: /)
})

t.test('format exec: a program every user can rewrite is refused; one not installed yet is fine', async (t) => {
  const prog = write('hook.sh', '#!/bin/sh\n', 0o757)
  t.same(await problemsOf(() => buildConfig({ webhooks: [{ name: 'h', format: 'exec', command: [prog] }] }, null)), [`webhooks[0].command: ${prog} is writable by every user (mode 0757): chmod o-w ${prog}`])
  chmodSync(prog, 0o755)
  t.ok(buildConfig({ webhooks: [{ name: 'h', format: 'exec', command: [prog] }] }, null))
  t.ok(buildConfig({ webhooks: [{ name: 'h', format: 'exec', command: [join(dir, 'not-yet')] }] }, null))
})

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'

t.test('an API others can reach needs a token, or the operator saying so', async (t) => {
  const tokenFile = write('cluster.token', TOKEN + '\n')
  const wide = { api: { listen: '0.0.0.0:9471' } }
  t.match(await problemsOf(() => buildConfig(wide, null)), [/^api\.listen: 0\.0\.0\.0:9471 is reachable from other hosts and no token guards the API: set cluster\.token_file \(or api\.token_file\), listen on 127\.0\.0\.1, or set api\.allow_unauthenticated: true$/])
  t.match(await problemsOf(() => buildConfig({ api: { listen: '10.0.1.11:9471' } }, null)), [/^api\.listen: /], 'a LAN address too')
  t.equal(buildConfig({ ...wide, cluster: { token_file: tokenFile } }, null).cluster.token, TOKEN, 'cluster.token_file guards it')
  t.equal(buildConfig({ api: { listen: '0.0.0.0:9471', token_file: tokenFile } }, null).api.token, TOKEN, 'api.token_file guards it')
  t.ok(buildConfig(wide, null, { env: { HA_AGENT_CLUSTER_TOKEN: TOKEN } }), 'a token from the environment counts')
  t.ok(buildConfig({ api: { listen: '0.0.0.0:9471', allow_unauthenticated: true } }, null), 'the operator said so')
  for (const listen of ['127.0.0.1:9471', '127.1.2.3:9471', '[::1]:9471', 'localhost:9471']) t.ok(buildConfig({ api: { listen } }, null), `${listen} is loopback`)
  t.ok(buildConfig({ api: { listen: null } }, null), 'no API, no rule')
  t.ok(buildConfig(wide, null, { purpose: 'check' }), '`check` listens on nothing and reads no token: no rule')
  t.match(await problemsOf(() => buildConfig({ api: { listen: '127.0.0.1:9471', allow_unauthenticated: true }, cluster: { token_file: tokenFile } }, null)), [/^api\.allow_unauthenticated: a token is configured/])
})

t.test('tokens: long enough, one printable word', async (t) => {
  t.match(await problemsOf(() => buildConfig({ cluster: { token_file: write('short.token', 'abc\n') } }, null)), [/^cluster\.token_file: the token is 3 characters: use at least 16/])
  t.match(await problemsOf(() => buildConfig({ api: { token_file: write('spaced.token', 'abcdefgh ijklmnopq\n') } }, null)), [/^api\.token_file: the token must be one word of printable ASCII/])
  t.match(await problemsOf(() => buildConfig({}, null, { env: { HA_AGENT_API_TOKEN: 'short' } })), [/^api\.token_file: the token is 5 characters/], 'from the environment too')
})

t.test('every secret *_file is refused when others can read it', async (t) => {
  const open = write('open.any', TOKEN + '\n', 0o644)
  const cases: Array<[string, Record<string, unknown>]> = [
    ['webhooks[0].secret_file', { webhooks: [{ name: 'ops', url: 'https://x.test/', secret_file: open }] }],
    ['webhooks[0].routing_key_file', { webhooks: [{ name: 'pd', url: 'https://x.test/', format: 'pagerduty', routing_key_file: open }] }],
    ['checks.postgres.password_file', { checks: { postgres: { url: 'postgres://m@h/db', password_file: open } } }],
    ['checks.pgbouncer.admin.password_file', { checks: { pgbouncer: { targets: ['127.0.0.1:6432'], admin: { user: 'm', password_file: open } } } }],
    ['cluster.token_file', { cluster: { token_file: open } }],
    ['api.token_file', { api: { token_file: open } }],
    ['api.tls.key_file', { api: { tls: { cert_file: '/nonexistent.crt', key_file: open } } }],
  ]
  for (const [key, doc] of cases) {
    const problems = await problemsOf(() => buildConfig(doc, null))
    t.ok(problems.includes(`${key}: ${open} is readable by every user (mode 0644): chmod 0640 ${open}; chown root:ha-agent ${open}`), `${key} refused: ${problems.join(' | ')}`)
  }
})

t.test("a secret file owned by another user is refused (that user can read or swap it)", { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async (t) => {
  const theirs = write('theirs.token', TOKEN + '\n', 0o600)
  const { chownSync } = await import('node:fs')
  chownSync(theirs, 4242, 0)
  t.match(await problemsOf(() => buildConfig({ cluster: { token_file: theirs } }, null)), [/^cluster\.token_file: .* belongs to user 4242, neither root nor this process's user \(0\): chmod 0640 .*; chown root:ha-agent/])
})

t.test('cluster.ca_file and api.tls: PEM checked at load, kept out of the printed config', async (t) => {
  const { makeTestPki } = await import('../fixtures/tls.js')
  const pki = makeTestPki(t)
  const config = buildConfig(
    { api: { listen: '127.0.0.1:9471', tls: { cert_file: pki.serverCert, key_file: pki.serverKey } }, peers: ['https://127.0.0.1:9472'], cluster: { ca_file: pki.caCert } },
    null,
  )
  t.equal(config.cluster.ca, pki.pem.ca)
  t.equal(config.api.tls!.key, pki.pem.key.trim())
  t.equal(config.api.tls!.cert, pki.pem.cert)
  const printed = JSON.stringify(redactedConfig(config))
  t.notMatch(printed, /BEGIN/, 'no PEM in the printed config')
  t.match(printed, pki.caCert, 'the file names are')
  t.match(await problemsOf(() => buildConfig({ cluster: { ca_file: pki.serverKey } }, null)), [/^cluster\.ca_file: .* holds no PEM certificate/])
  t.match(await problemsOf(() => buildConfig({ api: { tls: { cert_file: pki.serverCert, key_file: write('not-a-key', 'nope\n', 0o600) } } }, null)), [/^api\.tls\.key_file: .* holds no PEM private key/])
  t.match(await problemsOf(() => buildConfig({ cluster: { ca_file: join(dir, 'missing.crt') } }, null)), [/^cluster\.ca_file: cannot read .*ENOENT/])
})

t.test('redactedConfig: webhook and peer URLs as scheme://host:port/…, every PostgreSQL password masked', async (t) => {
  const config = buildConfig(
    {
      checks: { postgres: { url: 'postgresql://monitor:hunter2@10.0.0.5:5432/postgres?sslmode=require&password=pw2&sslpassword=pw3' } },
      webhooks: [
        { name: 'slack', format: 'slack', url: 'https://hooks.slack.com/services/T000/B000/sl4cksecret' },
        { name: 'ops', url: 'https://ops.example.org/ha?token=tok3n' },
      ],
      peers: ['http://scraper:pw4@10.0.1.21:9471/peer-s3cr3t/', 'http://10.0.1.22:9471'],
    },
    null,
  )
  const plain = redactedConfig(config) as any
  const text = JSON.stringify(plain)
  for (const secret of ['hunter2', 'pw2', 'pw3', 'pw4', 'sl4cksecret', 'tok3n', 'peer-s3cr3t', 'scraper']) t.notMatch(text, secret, `${secret} not printed`)
  t.equal(plain.checks.postgres.url, 'postgresql://monitor:***@10.0.0.5:5432/postgres?sslmode=require&password=***&sslpassword=***')
  t.same(plain.webhooks.map((w: any) => w.url), ['https://hooks.slack.com:443/…', 'https://ops.example.org:443/…'])
  t.same(plain.peers, ['http://10.0.1.21:9471/…', 'http://10.0.1.22:9471'])
})

t.test('format alertmanager: resend_interval (default 1m, 1s-1h) and labels, refused for other formats', async (t) => {
  const am = buildConfig({ webhooks: [{ name: 'am', url: 'http://127.0.0.1:9093', format: 'alertmanager' }, { name: 'ops', url: 'http://127.0.0.1:9/x' }] }, null)
  t.equal(am.webhooks[0]!.resend_interval, 60_000, 'the default, in the effective config')
  t.equal(am.webhooks[1]!.resend_interval, undefined, 'not on other formats')
  const set = buildConfig({ webhooks: [{ name: 'am', url: 'http://am:9093', format: 'alertmanager', resend_interval: '30s', labels: { pair: 'pg-main', team: 'dba' } }] }, null)
  t.equal(set.webhooks[0]!.resend_interval, 30_000)
  t.same(set.webhooks[0]!.labels, { pair: 'pg-main', team: 'dba' })
  const problems = await problemsOf(() =>
    buildConfig({
      webhooks: [
        { name: 'a', url: 'http://am:9093', format: 'alertmanager', resend_interval: '500ms' },
        { name: 'b', url: 'http://am:9093', format: 'alertmanager', resend_interval: '2h' },
        { name: 'c', url: 'http://x:1/', resend_interval: '1m', labels: { pair: 'x' } },
        { name: 'd', url: 'http://am:9093', format: 'alertmanager', labels: { node: 'x', '1st': 'y', __meta: 'z', empty: '' } },
        { name: 'e', url: 'http://am:9093', format: 'alertmanager', resend_interval: 'soon' },
        { name: 'f', url: 'http://am:9093', format: 'alertmanager', secret_file: '/etc/x.secret', routing_key_file: '/etc/x.key' },
      ],
    }, null),
  )
  t.same(problems.sort(), [
    'webhooks[0].resend_interval: must be at least 1s (Alertmanager is sent every firing alert this often)',
    'webhooks[1].resend_interval: must be at most 1h (got "2h")',
    'webhooks[2].labels: only for format alertmanager (this webhook is format standard)',
    'webhooks[2].resend_interval: only for format alertmanager (this webhook is format standard)',
    'webhooks[3].labels.1st: a label name is letters, digits and _, not starting with a digit',
    'webhooks[3].labels.__meta: names starting with __ are reserved by Prometheus and Alertmanager',
    'webhooks[3].labels.empty: must not be empty (Alertmanager drops empty labels)',
    'webhooks[3].labels.node: ha-agent sets this label itself (alertname, node, vrrp_instance, severity, check, webhook, test_id)',
    'webhooks[4].resend_interval: invalid duration "soon" (use e.g. 500ms, 30s, 5m, 24h, 7d)',
    'webhooks[5].secret_file: not used by format alertmanager (Alertmanager checks no signature; put basic auth in the url)',
    'webhooks[5].routing_key_file: only for format pagerduty',
  ].sort())
})
