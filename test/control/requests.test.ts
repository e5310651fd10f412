import t from 'tap'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { controlRequest, parseControlRequest, startControlServer, type ControlRequest } from '../../src/control/index.js'

const ID = 'msg_0123456789abcdef01234567'
const goodNotify = {
  op: 'notify',
  id: ID,
  pid: 4242,
  configPath: '/etc/ha-agent/config.yaml',
  transition: { kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 250 },
}
const withTransition = (over: Record<string, unknown>) => ({ ...goodNotify, transition: { ...goodNotify.transition, ...over } })
const without = (key: string) => Object.fromEntries(Object.entries(goodNotify).filter(([k]) => k !== key))

t.test('what ha-agent itself sends is accepted', async (t) => {
  for (const req of [
    { op: 'ping' },
    { op: 'status' },
    { op: 'check', configPath: '/etc/ha-agent/config.yaml' },
    { op: 'check', only: ['haproxy', 'postgres'], configPath: '/etc/ha-agent/config.yaml' },
    goodNotify,
    withTransition({ kind: 'GROUP', state: 'FAULT', priority: null }),
    { op: 'webhook-test', timeoutMs: 10_000 },
    { op: 'webhook-test', name: 'ops', timeoutMs: 10_000 },
    { op: 'switchover', force: false, timeoutMs: 10_000 },
    { op: 'switchover', to: 'haproxy2', force: true, timeoutMs: 3000 },
    { op: 'maintenance', action: 'on', reason: 'kernel update', force: false, timeoutMs: 10_000 },
    { op: 'maintenance', action: 'status', force: false, timeoutMs: 10_000 },
  ]) {
    const r = parseControlRequest(req)
    t.ok(r.ok, `${JSON.stringify(req)}: ${r.ok ? 'ok' : r.error}`)
  }
})

t.test('anything keepalived could never have sent is refused, naming the field', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['the issue\'s forged transition', withTransition({ state: '<b>HACKED</b>', kind: 'EVIL', priority: 'lol' }), /^invalid request: transition\.(kind|state|priority): /],
    ['a made-up state', withTransition({ state: '<b>HACKED</b>' }), /^invalid request: transition\.state: /],
    ['a made-up kind', withTransition({ kind: 'EVIL' }), /^invalid request: transition\.kind: /],
    ['a priority that is not a number', withTransition({ priority: 'lol' }), /^invalid request: transition\.priority: /],
    ['a priority out of VRRP\'s range', withTransition({ priority: 256 }), /^invalid request: transition\.priority: /],
    ['pid 1 (back-dating an event to boot)', { ...goodNotify, pid: 1 }, /^invalid request: pid: /],
    ['pid 0', { ...goodNotify, pid: 0 }, /^invalid request: pid: /],
    ['a pid beyond pid_max', { ...goodNotify, pid: 2 ** 22 + 1 }, /^invalid request: pid: /],
    ['a fractional pid', { ...goodNotify, pid: 42.5 }, /^invalid request: pid: /],
    ['notify without configPath (skipping the config match)', without('configPath'), /^invalid request: configPath: /],
    ['check without configPath', { op: 'check' }, /^invalid request: configPath: /],
    ['a relative configPath', { ...goodNotify, configPath: 'config.yaml' }, /^invalid request: configPath: must be an absolute path/],
    ['notify without pid', without('pid'), /^invalid request: pid: /],
    ['an id of another shape', { ...goodNotify, id: 'msg_../../etc/passwd' }, /^invalid request: id: not an event id/],
    ['a control character in the instance', withTransition({ instance: 'VI_1\nINSTANCE "VI_2" MASTER' }), /^invalid request: transition\.instance: control characters/],
    ['an empty instance', withTransition({ instance: '' }), /^invalid request: transition\.instance: /],
    ['an extra field', { ...goodNotify, timestamp: '1970-01-01T00:00:00Z' }, /^invalid request: request: /],
    ['an extra transition field', withTransition({ source: 'fifo' }), /^invalid request: transition: /],
    ['an unknown op', { op: 'shutdown' }, /^invalid request: op: /],
    ['no op', {}, /^invalid request: op: /],
    ['an unknown check name', { op: 'check', only: ['rm -rf'], configPath: '/c' }, /^invalid request: only\.0: /],
    ['a webhook test with a huge timeout', { op: 'webhook-test', timeoutMs: 1e9 }, /^invalid request: timeoutMs: /],
    ['a switchover without force', { op: 'switchover', timeoutMs: 1000 }, /^invalid request: force: /],
    ['a switchover with an unknown key', { op: 'switchover', force: false, timeoutMs: 1000, priority: 255 }, /^invalid request: /],
    ['a maintenance action that is none', { op: 'maintenance', action: 'maybe', force: false, timeoutMs: 1000 }, /^invalid request: action: /],
    ['a reason with a newline (it goes to logs and events)', { op: 'maintenance', action: 'on', reason: 'a\nb', force: false, timeoutMs: 1000 }, /^invalid request: reason: control characters/],
    ['not an object', 'ping', /^invalid request: /],
    ['null', null, /^invalid request: /],
  ]
  for (const [what, req, error] of cases) {
    const r = parseControlRequest(req)
    t.notOk(r.ok, `${what}: refused`)
    if (!r.ok) t.match(r.error, error, `${what}: ${r.error}`)
  }
})

t.test('over the real socket: a refused request never reaches the daemon; the socket is 0660', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-control-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'agent.sock')
  const handled: ControlRequest[] = []
  const server = await startControlServer({ path, handle: async (req) => (handled.push(req), { ok: true, pong: true, ready: true, pid: 1 }) })
  t.teardown(() => server.close())
  t.equal(statSync(path).mode & 0o777, 0o660, 'owner and group only')

  const send = (req: unknown) => controlRequest(path, req as ControlRequest, 2000)
  for (const req of [withTransition({ state: '<b>HACKED</b>', kind: 'EVIL', priority: 'lol' }), { ...goodNotify, pid: 1 }, without('configPath')]) {
    const r = await send(req)
    t.equal(r.ok, false)
    t.match((r as { error: string }).error, /^invalid request: /)
  }
  t.same(handled, [], 'the handler saw none of them')
  t.same(await send({ op: 'ping' }), { ok: true, pong: true, ready: true, pid: 1 })
  t.same(handled, [{ op: 'ping' }])
})
