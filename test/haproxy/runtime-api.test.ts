// haproxyCommand (one command, read to the close) against sockets that are not
// a healthy HAProxy. (A real HAProxy: test/integration/haproxy-runtime-api.test.ts.)
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasCode } from '../../src/errors/index.js'
import { haproxyCommand, parseShowInfo, parseShowStat } from '../../src/haproxy/index.js'
import { fakeRuntimeApi } from '../fixtures/haproxy.js'
import { misbehavingServer } from '../fixtures/procs.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-runtime-api-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('one command, the whole answer up to the close', async (t) => {
  const api = await fakeRuntimeApi(t, { 'show info': 'Name: HAProxy\nPid: 42\n' })
  t.equal(await haproxyCommand(api.socket, 'show info', 1000), 'Name: HAProxy\nPid: 42\n\n')
  t.same(api.asked, ['show info'])
})

t.test('garbage is rejected by the parsers', async (t) => {
  t.throws(() => parseShowStat('Unknown command\n'), /not a "show stat" answer/)
  t.throws(() => parseShowInfo('hello: world\n'), /not a "show info" answer/)
})

t.test('missing, refused and hung sockets reject naming the socket, with a code', async (t) => {
  const missing = await haproxyCommand(join(dir, 'nope.sock'), 'show info', 500).catch((e) => e)
  t.match(missing, { code: 'HA_ERR_UNAVAILABLE', errno: 'ENOENT', message: /nope\.sock: no such socket file/ })
  const stalePath = join(dir, 'stale.sock')
  writeFileSync(stalePath, '')
  const refused = await haproxyCommand(stalePath, 'show info', 500).catch((e) => e)
  t.match(refused, { code: 'HA_ERR_UNAVAILABLE', errno: 'ECONNREFUSED', message: /stale\.sock: connection refused \(HAProxy is not listening\)/ })
  const hungPath = join(dir, 'hung.sock')
  const hung = await misbehavingServer(hungPath, () => {})
  t.teardown(() => hung.close())
  const timedOut = await haproxyCommand(hungPath, 'show info', 300).catch((e) => e)
  t.ok(hasCode(timedOut, 'HA_ERR_TIMEOUT'))
  t.match(timedOut.message, /hung\.sock: no answer to "show info" within 300 ms/)
})

t.test('an abort from the caller ends the wait at once', async (t) => {
  const hung = await misbehavingServer(join(dir, 'hung-abort.sock'), () => {})
  t.teardown(() => hung.close())
  const ac = new AbortController()
  const pending = haproxyCommand(join(dir, 'hung-abort.sock'), 'show info', 60_000, ac.signal).catch((e) => e)
  ac.abort()
  // with a 60 s deadline, only the abort can have settled it before the test's own timeout
  t.ok(hasCode(await pending, 'HA_ERR_TIMEOUT'))
})
