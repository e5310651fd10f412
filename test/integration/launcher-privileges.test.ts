// The sh launcher where it needs root to be tried: run as another user (nobody)
// against a runtime_dir it cannot write and a verdict it cannot read, and in a
// PID namespace of its own. (Everything else: test/launcher/launcher.test.ts.)
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync } from 'node:fs'
import { join } from 'node:path'
import { FAKE_JS, HEALTHY_TEXT, healthy, launcherLab } from '../fixtures/launcher.js'

const { launcher, run, node } = launcherLab(t)
const plain = launcher('ha-agent')

t.test('a verdict this user cannot read: Node.js; a runtime_dir it cannot write: still answered', async (t) => {
  const n = node('perms')
  chownSync(n.runtimeDir, 0, 0)
  chmodSync(n.runtimeDir, 0o755)
  n.publish(healthy)
  const ro = run([plain, '--config', n.config, 'check'], { user: 'nobody' })
  t.same([ro.code, ro.stdout], [0, HEALTHY_TEXT], 'nothing is written: a read-only runtime_dir is fine')
  chmodSync(join(n.runtimeDir, 'verdict'), 0o600)
  const unreadable = run([plain, '--config', n.config, 'check'], { user: 'nobody' })
  t.same([unreadable.code, unreadable.node, unreadable.stderr], [42, [FAKE_JS, '--config', n.config, 'check'], 'fake node stderr\n'], 'unreadable: Node.js, nothing printed, stderr intact')
})

t.test('a /proc of another PID namespace cannot tell "now": Node.js', async (t) => {
  const n = node('pidns')
  n.publish(healthy)
  const argv = [plain, '--config', n.config, 'check']
  const own = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', ...argv], { encoding: 'utf8' })
  t.same([own.status, own.stdout], [0, HEALTHY_TEXT], 'its own /proc: answered')
  // /proc/$$ there is another process, perhaps one looked up long ago: -ef against /proc/self says so
  const foreign = spawnSync('unshare', ['--pid', '--fork', ...argv], { encoding: 'utf8' })
  t.equal(foreign.status, 42, 'the host /proc: Node.js')
  t.match(foreign.stdout, /^NODE\n/)
})
