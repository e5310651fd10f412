import t from 'tap'
import { createLogger, syslogPriority } from '../../src/log/index.js'

const NOW = Date.parse('2026-01-02T03:04:05.678Z')

function capture() {
  const writes: string[] = []
  return { writes, destination: { write: (s: string) => void writes.push(s) } }
}

t.test('syslogPrefix: each pino level gets the priority journald reads, then the JSON line unchanged', async (t) => {
  const { writes, destination } = capture()
  const log = createLogger({ level: 'trace', node: 'ha1', destination, syslogPrefix: true, now: () => NOW })
  log.fatal('f')
  log.error({ check: 'pgbouncer' }, 'e')
  log.warn('w')
  log.info('i')
  log.debug('d')
  log.trace('t')
  const line = (level: string, msg: string, extra = '') => `{"level":"${level}","time":"2026-01-02T03:04:05.678Z","node":"ha1"${extra},"msg":"${msg}"}\n`
  t.same(writes, [
    '<2>' + line('fatal', 'f'),
    '<3>' + line('error', 'e', ',"check":"pgbouncer"'),
    '<4>' + line('warn', 'w'),
    '<6>' + line('info', 'i'),
    '<7>' + line('debug', 'd'),
    '<7>' + line('trace', 't'),
  ])
})

t.test('child loggers (fastify, components) are prefixed by their own level', async (t) => {
  const { writes, destination } = capture()
  const log = createLogger({ destination, syslogPrefix: true, now: () => NOW })
  const api = log.child({ component: 'api' }, { level: 'warn' })
  api.info('not written')
  api.error('boom')
  log.info('after')
  t.same(writes, [
    '<3>{"level":"error","time":"2026-01-02T03:04:05.678Z","component":"api","msg":"boom"}\n',
    '<6>{"level":"info","time":"2026-01-02T03:04:05.678Z","msg":"after"}\n',
  ])
})

t.test('without the option: plain JSON lines, no prefix', async (t) => {
  const { writes, destination } = capture()
  const log = createLogger({ node: 'ha1', destination, now: () => NOW })
  log.warn('w')
  log.error({ err: new Error('x') }, 'e')
  t.equal(writes[0], '{"level":"warn","time":"2026-01-02T03:04:05.678Z","node":"ha1","msg":"w"}\n')
  t.equal(writes.length, 2)
  for (const w of writes) {
    t.equal(w[0], '{', 'starts with the JSON object')
    t.doesNotThrow(() => JSON.parse(w))
  }
})

t.test('secrets stay redacted with the prefix', async (t) => {
  const { writes, destination } = capture()
  createLogger({ destination, syslogPrefix: true, now: () => NOW }).warn({ headers: { authorization: 'Bearer s3cr3t' } }, 'peer said no')
  t.equal(writes.length, 1)
  t.match(writes[0], /^<4>\{/)
  t.notMatch(writes[0], /s3cr3t/)
  t.equal(JSON.parse(writes[0]!.slice(3)).headers.authorization, '[redacted]')
})

t.test('the level map', async (t) => {
  t.same([60, 50, 40, 30, 20, 10].map(syslogPriority), [2, 3, 4, 6, 7, 7])
  t.equal(syslogPriority(35), 6, 'a custom level between info and warn counts as info')
})

t.test('isJournalStream: JOURNAL_STREAM names this very fd, by device and inode', async (t) => {
  const { mkdtempSync, openSync, closeSync, fstatSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { isJournalStream } = await import('../../src/log/index.js')
  const dir = mkdtempSync(join(tmpdir(), 'ha-log-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const a = openSync(join(dir, 'a'), 'w')
  const b = openSync(join(dir, 'b'), 'w')
  t.teardown(() => (closeSync(a), closeSync(b)))
  const st = fstatSync(a, { bigint: true })
  const value = `${st.dev}:${st.ino}`
  t.equal(isJournalStream(value, a), true, 'the stream systemd named')
  t.equal(isJournalStream(value, b), false, 'another file (stderr was the journal, stdout redirected)')
  t.equal(isJournalStream(undefined, a), false, 'not under systemd')
  t.equal(isJournalStream('', a), false)
  t.equal(isJournalStream('garbage', a), false)
  t.equal(isJournalStream(value, 987654), false, 'a closed fd')
})

t.test('URLs are logged as scheme://host:port/…, secrets not at all, whatever object carries them', async (t) => {
  const { writes, destination } = capture()
  createLogger({ destination, now: () => NOW }).warn(
    {
      peer: 'http://scraper:hunter2@10.0.1.21:9471/s3cr3t-path?token=tok3n',
      url: 'https://hooks.slack.com/services/T000/B000/sl4ck',
      webhook: { name: 'ops', url: 'https://x.test/h?token=tok3n', secret: 'whsec_k3y', routingKey: 'rk3y' },
      req: { method: 'GET', url: '/master?instance=VI_1' },
      token: 'tok3n',
      cluster: { token: 'tok3n' },
      headers: { 'webhook-signature': 'v1,s1g' },
    },
    'peer unreachable',
  )
  const line = writes.join('')
  for (const secret of ['hunter2', 'scraper', 's3cr3t', 'tok3n', 'sl4ck', 'whsec_k3y', 'rk3y', 's1g']) t.notMatch(line, secret, `${secret} not logged`)
  const o = JSON.parse(line)
  t.equal(o.peer, 'http://10.0.1.21:9471/…')
  t.equal(o.url, 'https://hooks.slack.com:443/…')
  t.equal(o.webhook.url, 'https://x.test:443/…')
  t.equal(o.req.url, '/master?instance=VI_1', 'a request path (not a URL with a scheme) is kept')
  t.equal(o.token, '[redacted]')
})
