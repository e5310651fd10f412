import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeVerdictFile, renderVerdictFile, writeVerdictFile } from '../../src/launcher/verdict-file.js'
import { formatVerdict } from '../../src/commands/check.js'
import type { Verdict } from '../../src/checks/types.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-verdict-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const at = '2026-01-01T00:00:00.000Z'
const healthy: Verdict = {
  healthy: true,
  checks: [
    { name: 'haproxy', status: 'pass', latencyMs: 1.4, detail: 'HAProxy 2.6.12, pgbouncers 3/3 UP', checkedAt: at, data: { backends: { pgbouncers: 3 } } },
    { name: 'postgres', status: 'pass', latencyMs: 12.6, detail: 'SELECT 1 ok', checkedAt: at },
  ],
  checkedAt: at,
  source: 'daemon',
}
const odd: Verdict = {
  healthy: false,
  checks: [{ name: 'pgbouncer', status: 'fail', latencyMs: 1234.5, detail: 'two\nlines, a \\ and "quotes"  ', checkedAt: at }],
  checkedAt: at,
  source: 'daemon',
}

t.test('the text lines are what `ha-agent check` prints (formatVerdict), line for line', async (t) => {
  for (const v of [healthy, odd, { ...healthy, checks: [] }]) {
    const text = renderVerdictFile({ exitCode: 0, configPath: '/c.yaml', verdict: v }).split('\n').filter((l) => l.startsWith('text ')).map((l) => l.slice(5))
    t.equal(text.join('\n') + '\n', formatVerdict(v))
  }
})

t.test('the format: header, exit, config, counted text lines, then the JSON', async (t) => {
  const text = renderVerdictFile({ exitCode: 0, configPath: '/etc/ha-agent/config.yaml', verdict: healthy })
  t.equal(
    text,
    [
      'ha-agent-verdict 1',
      'exit 0',
      'config /etc/ha-agent/config.yaml',
      'lines 3',
      'text haproxy   pass    1ms  HAProxy 2.6.12, pgbouncers 3/3 UP',
      'text postgres  pass   13ms  SELECT 1 ok',
      'text healthy (daemon)',
      `json ${JSON.stringify(healthy)}`,
      '',
    ].join('\n'),
  )
  const multi = renderVerdictFile({ exitCode: 1, configPath: '/c.yaml', verdict: odd })
  t.match(multi, 'lines 3\ntext pgbouncer fail 1235ms  two\ntext lines, a \\ and "quotes"  \ntext UNHEALTHY (daemon)\njson ')
  t.throws(() => renderVerdictFile({ exitCode: 0, configPath: 'relative.yaml', verdict: healthy }), /absolute/)
  t.throws(() => renderVerdictFile({ exitCode: 0, configPath: '/a\nb', verdict: healthy }), /one line/)
})

t.test('written atomically, 0644 whatever the umask, mtime = expiry; removed on request', async (t) => {
  const old = process.umask(0o077)
  t.teardown(() => void process.umask(old))
  const expiresAt = Date.now() + 1800
  writeVerdictFile(dir, { exitCode: 0, configPath: '/etc/ha-agent/config.yaml', verdict: healthy, expiresAt })
  const st = statSync(join(dir, 'verdict'))
  t.equal(st.mode & 0o777, 0o644)
  t.equal(Math.round(st.mtimeMs), expiresAt)
  t.ok(st.mtimeMs > Date.now(), 'in the future')
  t.match(readFileSync(join(dir, 'verdict'), 'utf8'), /^ha-agent-verdict 1\nexit 0\n/)
  t.same(readdirSync(dir), ['verdict'], 'no temp file left')
  writeVerdictFile(dir, { exitCode: 1, configPath: '/etc/ha-agent/config.yaml', verdict: odd, expiresAt: expiresAt + 500 })
  t.match(readFileSync(join(dir, 'verdict'), 'utf8'), /^ha-agent-verdict 1\nexit 1\n/)
  removeVerdictFile(dir)
  t.same(readdirSync(dir), [])
  removeVerdictFile(dir) // twice is fine
  t.throws(() => writeVerdictFile(join(dir, 'nosuch'), { exitCode: 0, configPath: '/c', verdict: healthy, expiresAt }), { code: 'ENOENT' })
})
