// `ha-agent notify` when the disk under state_dir is full or read-only: exit 1
// with the path and the errno on stderr, nothing half-written, and every event
// recorded before is still there.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../fixtures/cli.js'

function tinyTmpfs(t: { teardown(fn: () => unknown): void }): { dir: string; config: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-notify-disk-'))
  const state = join(dir, 'state')
  mkdirSync(state)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0750', 'tmpfs', state])
  t.teardown(() => {
    execFileSync('umount', ['-l', state])
    rmSync(dir, { recursive: true, force: true })
  })
  const config = join(dir, 'config.yaml')
  writeFileSync(config, `node: n1\nstate_dir: ${state}\nruntime_dir: ${join(dir, 'run')}\nwebhooks:\n  - { name: ops, url: "http://127.0.0.1:9/hook" }\n`)
  return { dir, config, state }
}

/** Every file under dir (recursive), relative paths. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
    .sort()
}

function queued(state: string): Array<{ id: string; data: { state: string; previous_state: string | null } }> {
  const q = join(state, 'queue', 'ops')
  return readdirSync(q)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(q, n), 'utf8')))
}

t.test('full disk: exit 1, loud, earlier events intact, nothing half-written', async (t) => {
  const { dir, config, state } = tinyTmpfs(t)
  const first = await runCli(['notify', 'INSTANCE', 'VI_1', 'BACKUP', '100', '--config', config])
  t.equal(first.code, 0, first.stderr)
  const before = queued(state)
  t.equal(before.length, 1)

  mkdirSync(join(state, 'filler'))
  try {
    for (let i = 0; ; i++) writeFileSync(join(state, 'filler', String(i)), Buffer.alloc(4096, 1))
  } catch (err) {
    t.equal((err as NodeJS.ErrnoException).code, 'ENOSPC', 'the tmpfs is full')
  }
  const filesBefore = files(state).filter((f) => !f.startsWith('filler/'))

  const full = await runCli(['notify', 'INSTANCE', 'VI_1', 'MASTER', '100', '--config', config])
  t.equal(full.code, 1, 'exit 1 on a full disk')
  t.equal(full.stdout, '')
  t.match(
    full.stderr,
    new RegExp(`^ha-agent notify: outbox: cannot store vrrp.transition event at ${state}/\\S+: .*\\(ENOSPC\\); kept in ${dir}/run/spool/msg_[0-9a-f]+\\.json until the daemon can move it \\(lost at reboot\\)\\n$`),
    'names the path, the errno and where the event waits',
  )
  t.equal(readdirSync(join(dir, 'run', 'spool')).length, 1, 'kept in the spool')
  t.same(files(state).filter((f) => !f.startsWith('filler/')), filesBefore, 'no temp file or partial event left behind')
  t.same(queued(state), before, 'the earlier event is intact')
  t.match(JSON.parse(readFileSync(join(state, 'vrrp', 'VI_1.json'), 'utf8')), { state: 'BACKUP' }, 'the state store still names the last reported state')

  // Space again: the next transition is recorded and its previous_state is right.
  rmSync(join(state, 'filler'), { recursive: true })
  const after = await runCli(['notify', 'INSTANCE', 'VI_1', 'MASTER', '100', '--config', config])
  t.equal(after.code, 0, after.stderr)
  const events = queued(state)
  t.equal(events.length, 2)
  t.same(events.map((e) => [e.data.state, e.data.previous_state]), [['BACKUP', null], ['MASTER', 'BACKUP']])
})

t.test('read-only state_dir: exit 1 naming EROFS, earlier events intact', async (t) => {
  const { config, state } = tinyTmpfs(t)
  t.equal((await runCli(['notify', 'backup', 'VI_1', '--config', config])).code, 0)
  const before = queued(state)
  execFileSync('mount', ['-o', 'remount,ro', state])
  const r = await runCli(['notify', 'master', 'VI_1', '--config', config])
  t.equal(r.code, 1)
  t.match(r.stderr, /ha-agent notify: outbox: cannot store vrrp\.transition event at .*\(EROFS\); kept in .*\/spool\//)
  execFileSync('mount', ['-o', 'remount,rw', state])
  t.same(queued(state), before)
})
