import t from 'tap'
import { buildApp } from '../../src/api/app.js'
import { createMetrics } from '../../src/api/metrics.js'
import { checkBearer } from '../../src/cluster/index.js'
import { silentLogger } from '../../src/log/index.js'
import type { StatusSnapshot } from '../../src/api/status.js'
import { fakeSnapshot } from '../fixtures/snapshot.js'

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'

function appWith(snap: StatusSnapshot, token?: string) {
  const app = buildApp({
    snapshot: () => snap,
    metrics: createMetrics(() => snap),
    logger: silentLogger,
    ...(token ? { authorize: (h: string | undefined) => checkBearer(h, token) } : {}),
  })
  t.teardown(() => app.close())
  return app
}

const snapshot = (over: Partial<StatusSnapshot> = {}): StatusSnapshot => ({ ...fakeSnapshot(), checks: [], ...over })
const inst = (name: string, state: string) => ({ name, state, priority: 250, since: '2026-01-02T03:04:05.000Z' })

t.test('with a token, every route but /healthz, /health, /master and /backup needs it', async (t) => {
  const app = appWith(snapshot({ instances: [inst('VI_1', 'MASTER')] }), TOKEN)
  for (const url of ['/status', '/metrics', '/nothing-here', '/status?x=1', '/healthz/../status']) {
    const r = await app.inject({ url })
    t.equal(r.statusCode, 401, `${url} without a token: 401`)
    t.equal(r.headers['www-authenticate'], 'Bearer')
    t.equal((await app.inject({ url, headers: { authorization: 'Bearer wrong-token-wrong-token!' } })).statusCode, 401, `${url} with a wrong token: 401`)
    t.equal((await app.inject({ url, headers: { authorization: TOKEN } })).statusCode, 401, `${url} with the token but not as Bearer: 401`)
  }
  t.equal((await app.inject({ url: '/status', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200)
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200)
  for (const url of ['/healthz', '/health', '/master', '/backup', '/master?instance=VI_1']) {
    const r = await app.inject({ url })
    t.not(r.statusCode, 401, `${url} answers without a token (${r.statusCode})`)
  }
  const status = await app.inject({ url: '/status', method: 'HEAD' })
  t.equal(status.statusCode, 401, 'HEAD /status needs it too')
})

t.test('without a token (loopback, or api.allow_unauthenticated) everything answers', async (t) => {
  const app = appWith(snapshot())
  t.equal((await app.inject({ url: '/status' })).statusCode, 200)
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 200)
})

t.test('/master and /backup: 200 when this node holds that state for every instance (or ?instance=), 503 otherwise', async (t) => {
  const app = appWith(snapshot({ instances: [inst('VI_1', 'MASTER'), inst('VI_2', 'BACKUP')] }), TOKEN)
  const ask = async (url: string, method: 'GET' | 'HEAD' = 'GET') => {
    const r = await app.inject({ url, method })
    return { code: r.statusCode, body: r.body ? JSON.parse(r.body) : null, raw: r.body }
  }
  let r = await ask('/master')
  t.equal(r.code, 503, 'not MASTER for every instance')
  t.same(r.body, { role: 'MASTER', holds: false, reason: 'VI_2 is BACKUP' })
  r = await ask('/master?instance=VI_1')
  t.equal(r.code, 200)
  t.same(r.body, { role: 'MASTER', holds: true, reason: 'VI_1 is MASTER' })
  t.equal((await ask('/backup?instance=VI_1')).code, 503)
  t.equal((await ask('/backup?instance=VI_2')).code, 200)
  r = await ask('/master?instance=VI_9')
  t.equal(r.code, 503, 'an instance this node does not know: not held')
  t.match(r.body.reason, 'no VRRP instance VI_9 known here')
  t.equal((await ask('/master?instance=')).code, 400, 'an empty name is a client error')
  t.equal((await ask('/master?instance=VI_1&instance=VI_2')).code, 400, 'two names too')

  const head = await ask('/master?instance=VI_1', 'HEAD')
  t.equal(head.code, 200, 'HEAD answers the same status')
  t.equal(head.raw, '', 'and no body')
  t.equal((await ask('/backup?instance=VI_1', 'HEAD')).code, 503)
})

t.test('/master with every instance MASTER, and with none known', async (t) => {
  const all = appWith(snapshot({ instances: [inst('VI_1', 'MASTER'), inst('VI_2', 'MASTER')] }))
  const r = await all.inject({ url: '/master' })
  t.equal(r.statusCode, 200)
  t.same(JSON.parse(r.body), { role: 'MASTER', holds: true, reason: 'VI_1, VI_2 are MASTER' })
  const none = appWith(snapshot({ instances: [] }))
  const n = await none.inject({ url: '/backup' })
  t.equal(n.statusCode, 503, 'no instance known yet: neither role is held')
  t.same(JSON.parse(n.body), { role: 'BACKUP', holds: false, reason: 'no VRRP instance known here yet' })
  const fault = appWith(snapshot({ instances: [inst('VI_1', 'FAULT')] }))
  t.equal((await fault.inject({ url: '/master' })).statusCode, 503)
  t.equal((await fault.inject({ url: '/backup' })).statusCode, 503, 'FAULT is neither')
  // keepalived killed with SIGKILL sent no STOP: the recorded MASTER is not believed.
  const gone = appWith(snapshot({ instances: [inst('VI_1', 'MASTER')], keepalived: { up: false, pid_file: '/run/keepalived_vrrp.pid', detail: 'pid 42 is gone' } }))
  const g = await gone.inject({ url: '/master' })
  t.equal(g.statusCode, 503)
  t.same(JSON.parse(g.body), { role: 'MASTER', holds: false, reason: 'keepalived is not running' })
})

t.test('/health: 200 when healthy, 503 when not, naming failing checks but no detail', async (t) => {
  const check = (name: string, status: 'pass' | 'fail', detail: string) => ({ name, status, latency_ms: 3, detail, checked_at: '2026-01-02T03:04:05.000Z' })
  const healthy = appWith(snapshot({ healthy: true, track_file: null, checks: [check('haproxy', 'pass', 'HAProxy 2.6')] }), TOKEN)
  let r = await healthy.inject({ url: '/health' })
  t.equal(r.statusCode, 200)
  t.same(JSON.parse(r.body), { healthy: true, reason: 'every check passes' })
  t.equal((await healthy.inject({ url: '/health', method: 'HEAD' })).statusCode, 200)

  const sick = appWith(
    snapshot({
      healthy: false,
      track_file: { path: '/run/ha-agent/fault', fault: true, reason: 'HAProxy gone' },
      checks: [check('haproxy', 'fail', 'HAProxy socket /run/haproxy/ha-agent.sock: permission denied'), check('pgbouncer', 'fail', '10.0.1.10:6432 refused'), check('postgres', 'pass', 'ok')],
    }),
    TOKEN,
  )
  r = await sick.inject({ url: '/health' })
  t.equal(r.statusCode, 503)
  t.same(JSON.parse(r.body), { healthy: false, reason: 'local fault (keepalived track_file); failing: haproxy, pgbouncer' })
  t.notMatch(r.body, /10\.0\.1\.10|socket|refused/, 'no detail without a token')
  const head = await sick.inject({ url: '/health', method: 'HEAD' })
  t.equal(head.statusCode, 503)
  t.equal(head.body, '')

  const early = appWith(snapshot({ healthy: false, track_file: null, checks: [] }))
  t.same(JSON.parse((await early.inject({ url: '/health' })).body), { healthy: false, reason: 'no check has run yet' })
})

t.test('/healthz stays 200 whatever the health', async (t) => {
  const app = appWith(snapshot({ healthy: false }), TOKEN)
  const r = await app.inject({ url: '/healthz' })
  t.equal(r.statusCode, 200)
  t.same(JSON.parse(r.body), { status: 'ok' })
})

t.test('in maintenance: /health 503 saying so (not the operator\'s free text), /master 503, /backup as the VRRP state says', async (t) => {
  const app = appWith(
    snapshot({
      healthy: false,
      instances: [inst('VI_1', 'FAULT')],
      checks: [{ name: 'haproxy', status: 'pass', latency_ms: 3, detail: 'ok', checked_at: '2026-01-02T03:04:05.000Z' }],
      maintenance: { on: true, since: '2026-01-02T03:04:05.000Z', reason: 'kernel update on rack 4, call Bob at 555-0100' },
      track_file: { path: '/run/ha-agent/fault', fault: true, reason: 'maintenance: kernel update' },
    }),
    TOKEN,
  )
  const h = await app.inject({ url: '/health' })
  t.equal(h.statusCode, 503)
  t.same(JSON.parse(h.body), { healthy: false, reason: 'in maintenance since 2026-01-02T03:04:05.000Z' })
  t.equal((await app.inject({ url: '/master' })).statusCode, 503)
  const b = await app.inject({ url: '/backup' })
  t.equal(b.statusCode, 503, 'keepalived holds it in FAULT: not a BACKUP that would take over')
  t.match(JSON.parse(b.body), { holds: false, reason: 'VI_1 is FAULT' })
})

t.test('POST /switchover and /yield: the cluster token only, bodies parsed', async (t) => {
  const calls: unknown[] = []
  const snap = snapshot()
  const app = buildApp({
    snapshot: () => snap,
    metrics: createMetrics(() => snap),
    logger: silentLogger,
    authorize: (h) => checkBearer(h, TOKEN) || checkBearer(h, 'prometheus-token-prometheus-token'),
    actions: {
      authorize: (h) => checkBearer(h, TOKEN),
      switchover: async (req) => (calls.push(req), { code: 200, body: { ok: true, message: 'moved' } }),
      clearYield: async () => (calls.push('yield'), { code: 200, body: { ok: true, was: true } }),
    },
  })
  t.teardown(() => app.close())
  const post = (url: string, payload: unknown, bearer?: string) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } })
  t.equal((await post('/switchover', {})).statusCode, 401, 'no token')
  t.equal((await post('/switchover', {}, 'prometheus-token-prometheus-token')).statusCode, 403, "a reader's token does not move the VIP")
  t.same(calls, [])
  let r = await post('/switchover', { to: 'ha1' }, TOKEN)
  t.equal(r.statusCode, 200)
  t.same(calls, [{ to: 'ha1', force: false, timeoutMs: 10_000 }], 'defaults filled in')
  r = await post('/switchover', { to: 'ha1', force: true, timeout_ms: 3000 }, TOKEN)
  t.same(calls.at(-1), { to: 'ha1', force: true, timeoutMs: 3000 })
  r = await post('/switchover', { to: 'ha1', bogus: 1 }, TOKEN)
  t.equal(r.statusCode, 400)
  t.match(JSON.parse(r.body).error, /bogus|Unrecognized/)
  t.equal((await post('/switchover', { timeout_ms: 10 ** 9 }, TOKEN)).statusCode, 400, 'a timeout past the limit')
  t.equal((await post('/yield', { yield: true }, TOKEN)).statusCode, 400, 'only a yield dropped is asked for')
  r = await post('/yield', { yield: false }, TOKEN)
  t.equal(r.statusCode, 200)
  t.equal(calls.at(-1), 'yield')
  t.equal((await app.inject({ method: 'GET', url: '/switchover', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 404, 'POST only')
})
