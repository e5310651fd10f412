// format exec against real commands: small sh scripts written here that
// succeed, fail, hang, leave children behind and record what they were given.
import t from 'tap'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig, type ExecWebhookConfig } from '../../src/config/index.js'
import type { AgentEvent } from '../../src/events/index.js'
import { openOutbox } from '../../src/outbox/index.js'
import { createExecSink, startDispatcher, type Attempt } from '../../src/webhooks/index.js'
import { silentLogger } from '../../src/log/index.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-exec-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** Writes an executable sh script; `$OUT` in it is a fresh directory for what it records. */
function script(body: string): { path: string; out: string } {
  const out = join(dir, `out${++n}`)
  const path = join(dir, `hook${n}.sh`)
  writeFileSync(path, `#!/bin/sh\nOUT=${out}\nmkdir -p "$OUT"\n${body}\n`)
  chmodSync(path, 0o755)
  return { path, out }
}

function hook(command: string[], extra: Record<string, unknown> = {}): ExecWebhookConfig {
  const w = buildConfig({ webhooks: [{ name: 'on-failover', format: 'exec', command, ...extra }] }, null).webhooks[0]!
  if (w.format !== 'exec') throw new Error('not exec')
  return w
}

const transition: AgentEvent = {
  id: 'msg_0006253f1a2b3c4d0011223344',
  type: 'vrrp.transition',
  timestamp: '2026-11-25T10:00:00.000Z',
  data: { node: 'haproxy1', instance: 'VI_1', kind: 'INSTANCE', state: 'MASTER', previous_state: null, priority: 250, source: 'fifo' },
}

const deliver = (w: ExecWebhookConfig, event: AgentEvent = transition, opts = {}, signal = new AbortController().signal): Promise<Attempt> =>
  createExecSink(w, opts).deliver(event, signal)

/** Alive and not a zombie (a reaped process has no /proc entry). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function until<T>(what: string, fn: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

t.test('exit 0 is delivered', async (t) => {
  const s = script('touch "$OUT/ran"')
  t.same(await deliver(hook([s.path])), { result: 'delivered', detail: 'exit 0' })
  t.ok(existsSync(join(s.out, 'ran')))
})

t.test('the environment is exactly the event and a minimal base; stdin is the standard body', async (t) => {
  // /proc/$$/environ: what execve gave the script, before the shell adds anything of its own.
  const s = script('cat /proc/$$/environ > "$OUT/env"\ncat > "$OUT/stdin"')
  process.env.HA_AGENT_WEBHOOK_OPS_SECRET = 'whsec_bGVha2VkLWxlYWtlZC1sZWFrZWQtbGVha2Vk'
  process.env.HA_AGENT_POSTGRES_PASSWORD = 'hunter2'
  t.teardown(() => {
    delete process.env.HA_AGENT_WEBHOOK_OPS_SECRET
    delete process.env.HA_AGENT_POSTGRES_PASSWORD
  })
  t.match(await deliver(hook([s.path, 'arg one', '--two'])), { result: 'delivered' })
  // tap's processinfo plugin wraps child_process and adds its own variables to every child: not ours.
  // Entries are NUL-separated: a value may hold newlines (tap's do, with several test files).
  const env = readFileSync(join(s.out, 'env'), 'utf8')
    .split('\0')
    .filter((l) => l && !l.startsWith('_TAPJS_PROCESSINFO_') && !(l.startsWith('NODE_OPTIONS=') && l.includes('@tapjs/processinfo')))
    .sort()
  t.same(
    env,
    [
      'HA_AGENT_EVENT_ID=msg_0006253f1a2b3c4d0011223344',
      'HA_AGENT_EVENT_TIMESTAMP=2026-11-25T10:00:00.000Z',
      'HA_AGENT_EVENT_TYPE=vrrp.transition',
      'HA_AGENT_INSTANCE=VI_1',
      'HA_AGENT_KIND=INSTANCE',
      'HA_AGENT_NODE=haproxy1',
      'HA_AGENT_PREVIOUS_STATE=',
      'HA_AGENT_PRIORITY=250',
      'HA_AGENT_SOURCE=fifo',
      'HA_AGENT_STATE=MASTER',
      'HA_AGENT_WEBHOOK=on-failover',
      'LANG=C.UTF-8',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ],
    'nothing of the daemon\'s environment',
  )
  t.notMatch(env.join('\n'), /SECRET|PASSWORD|hunter2|whsec_|HOME=|TAP/, 'no secret leaks from the parent')
  t.equal(readFileSync(join(s.out, 'stdin'), 'utf8'), JSON.stringify({ type: transition.type, timestamp: transition.timestamp, data: transition.data }), 'the bytes an HTTP receiver gets')

  const check = script('tr "\\0" "\\n" < /proc/$$/environ | grep ^HA_AGENT_ | sort > "$OUT/env"')
  await deliver(hook([check.path]), { ...transition, type: 'check.failed', data: { node: 'haproxy1', check: 'pgbouncer', detail: '0/3 PgBouncers answer' } })
  t.match(readFileSync(join(check.out, 'env'), 'utf8'), /HA_AGENT_CHECK=pgbouncer\nHA_AGENT_DETAIL=0\/3 PgBouncers answer\n/)
  await deliver(hook([check.path]), { ...transition, type: 'cluster.split_brain', data: { node: 'a', instance: 'VI_1', peers: ['b', 'c'], dedup_key: 'x' } })
  t.match(readFileSync(join(check.out, 'env'), 'utf8'), /HA_AGENT_INSTANCE=VI_1\nHA_AGENT_NODE=a\nHA_AGENT_PEERS=b,c\n/)
})

t.test('the program gets its argv as configured, no shell in between, cwd /', async (t) => {
  const s = script('printf "%s|" "$@" > "$OUT/argv"\npwd > "$OUT/cwd"')
  await deliver(hook([s.path, '$(touch /tmp/pwned)', 'a b', '*', '']))
  t.equal(readFileSync(join(s.out, 'argv'), 'utf8'), '$(touch /tmp/pwned)|a b|*||')
  t.equal(readFileSync(join(s.out, 'cwd'), 'utf8'), '/\n')
})

t.test('non-zero exit is retried with the last line of stderr; a signal too', async (t) => {
  const s = script('echo "starting" >&2\necho "cannot reach the pooler" >&2\nexit 3')
  t.same(await deliver(hook([s.path])), { result: 'retry', detail: 'exit 3: cannot reach the pooler' })
  const quiet = script('exit 1')
  t.same(await deliver(hook([quiet.path])), { result: 'retry', detail: 'exit 1' })
  const loud = script('head -c 1000000 /dev/zero | tr "\\0" "x"\nhead -c 1000000 /dev/zero | tr "\\0" "y" >&2\necho >&2\necho "last words" >&2\nexit 2')
  t.same(await deliver(hook([loud.path])), { result: 'retry', detail: 'exit 2: last words' }, 'a megabyte of output neither blocks it nor fills the detail')
  const killed = script('kill -USR1 $$')
  t.same(await deliver(hook([killed.path])), { result: 'retry', detail: 'killed by SIGUSR1' })
})

t.test('a program that cannot be started is retried (it may be installed later)', async (t) => {
  const missing = join(dir, 'not-installed-yet.sh')
  t.same(await deliver(hook([missing])), { result: 'retry', detail: `cannot run ${missing}: no such file or directory (ENOENT)` })
  writeFileSync(missing, '#!/bin/sh\nexit 0\n', { mode: 0o644 })
  chmodSync(missing, 0o644)
  t.same(await deliver(hook([missing])), { result: 'retry', detail: `cannot run ${missing}: permission denied (EACCES)` })
  chmodSync(missing, 0o755)
  t.same(await deliver(hook([missing])), { result: 'delivered', detail: 'exit 0' })
})

t.test('a hook that hangs is killed at its timeout, with its children', async (t) => {
  const s = script('sleep 300 &\necho $! > "$OUT/child"\necho $$ > "$OUT/self"\nsleep 300')
  const started = performance.now()
  t.same(await deliver(hook([s.path], { timeout_ms: 300 })), { result: 'retry', detail: 'killed after 300 ms' })
  const took = performance.now() - started
  t.ok(took >= 290 && took < 5000, `returned after ${took.toFixed(0)} ms`)
  const [self, child] = ['self', 'child'].map((f) => Number(readFileSync(join(s.out, f), 'utf8')))
  await until('hook and its child gone', () => !alive(self!) && !alive(child!))
  t.pass('the script and its background child are gone')

  // One that ignores SIGTERM gets SIGKILL after the grace.
  const stubborn = script('trap "" TERM\nsleep 300 &\necho $! > "$OUT/child"\nwhile :; do sleep 0.05; done')
  const t0 = performance.now()
  t.same(await deliver(hook([stubborn.path], { timeout_ms: 200 }), transition, { killGraceMs: 300 }), { result: 'retry', detail: 'killed after 200 ms' })
  const took2 = performance.now() - t0
  t.ok(took2 >= 480 && took2 < 6000, `SIGKILL after timeout + grace: ${took2.toFixed(0)} ms`)
  const stubbornChild = Number(readFileSync(join(stubborn.out, 'child'), 'utf8'))
  await until('child gone', () => !alive(stubbornChild))
  t.pass('its child too')
})

t.test('a hook is over when its command exits: what it left in its process group is killed', async (t) => {
  const s = script('sleep 300 &\necho $! > "$OUT/child"\nexit 0')
  t.same(await deliver(hook([s.path])), { result: 'delivered', detail: 'exit 0' })
  const child = Number(readFileSync(join(s.out, 'child'), 'utf8'))
  await until('left-over child gone', () => !alive(child))
  t.pass('no hook keeps running beside the next one')
})

t.test('shutdown abandons a running hook (killed; retried after the restart)', async (t) => {
  const s = script('echo $$ > "$OUT/self"\nsleep 300')
  const ac = new AbortController()
  const p = deliver(hook([s.path], { timeout_ms: 60_000 }), transition, {}, ac.signal)
  await until('started', () => existsSync(join(s.out, 'self')) && readFileSync(join(s.out, 'self'), 'utf8').trim())
  ac.abort()
  t.same(await p, { result: 'retry', detail: 'abandoned at shutdown' })
  t.notOk(alive(Number(readFileSync(join(s.out, 'self'), 'utf8'))))
})

t.test('through the outbox: in order, one at a time, a failure retried until it succeeds', async (t) => {
  const stateDir = join(dir, 'state-order')
  // Fails its first run (a counter file), then records start and end of each run.
  const s = script(
    [
      'id=$HA_AGENT_EVENT_ID',
      'n=$(cat "$OUT/count" 2>/dev/null || echo 0); echo $((n + 1)) > "$OUT/count"',
      'if [ "$n" = 0 ]; then echo "first run fails" >&2; exit 3; fi',
      'echo "start $id $(date +%s%N)" >> "$OUT/log"',
      'sleep 0.1',
      'echo "end $id $(date +%s%N)" >> "$OUT/log"',
    ].join('\n'),
  )
  const config = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'on-failover', format: 'exec', command: [s.path] }] }, null)
  const outbox = openOutbox({ stateDir, webhooks: config.webhooks })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await outbox.append({ type: 'vrrp.transition', data: { node: 'n', instance: 'VI_1', kind: 'INSTANCE', state: i % 2 ? 'BACKUP' : 'MASTER', previous_state: null, priority: 1, source: 'notify' } })).id)
  const results: string[] = []
  const d = startDispatcher({
    stateDir,
    webhooks: config.webhooks,
    logger: silentLogger,
    random: () => 0.01,
    minRetryMs: 0,
    onResult: (_w, r) => results.push(r),
  })
  t.teardown(() => d.stop())
  const done = await d.waitFor(ids[4]!, 15_000)
  t.match(done, [{ webhook: 'on-failover', result: 'delivered' }])
  t.same(results, ['retry', 'delivered', 'delivered', 'delivered', 'delivered', 'delivered'], 'the first run failed and was retried')
  const log = readFileSync(join(s.out, 'log'), 'utf8').trim().split('\n').map((l) => l.split(' '))
  t.same(log.map(([what, id]) => `${what} ${id}`), ids.flatMap((id) => [`start ${id}`, `end ${id}`]), 'each event once, in order, each run ended before the next began')
  for (let i = 1; i < log.length; i++) t.ok(BigInt(log[i]![2]!) >= BigInt(log[i - 1]![2]!), 'no overlap')
})

t.test('the retry detail is what the lane reports and keeps', async (t) => {
  const stateDir = join(dir, 'state-detail')
  const s = script('echo "pooler down" >&2; exit 4')
  const config = buildConfig({ state_dir: stateDir, webhooks: [{ name: 'h', format: 'exec', command: [s.path] }] }, null)
  const ev = await openOutbox({ stateDir, webhooks: config.webhooks }).append({ type: 'agent.test', data: { node: 'n', state: 'test' } })
  const d = startDispatcher({ stateDir, webhooks: config.webhooks, logger: silentLogger })
  t.teardown(() => d.stop())
  await until('a failed run', () => d.stats().webhooks[0]!.lastResult === 'retry', 15_000)
  t.match(d.stats().webhooks, [{ name: 'h', pending: 1, lastResult: 'retry', lastError: 'exit 4: pooler down' }])
  t.match(await d.waitFor(ev.id, 100), [{ webhook: 'h', result: 'pending', detail: 'exit 4: pooler down' }])
})
