import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_CONFIG_PATH, DEFAULT_RUNTIME_DIR, DEFAULT_STATE_DIR, peekCheckTimeout, peekRuntimeDir, resolveConfigPath } from '../../src/config/peek.js'

t.test('peekCheckTimeout reads checks.timeout_ms from block YAML only', async (t) => {
  t.equal(peekCheckTimeout('checks:\n  interval_ms: 500\n  timeout_ms: 750\n'), 750)
  t.equal(peekCheckTimeout('node: a\nchecks:   # deep checks\n\n  # comment\n  timeout_ms: 42  # why\nwebhooks: []\n'), 42)
  t.equal(peekCheckTimeout('checks:\n  haproxy:\n    timeout_ms: 9\n  timeout_ms: 600\n'), 600, 'a nested key is not ours')
  t.equal(peekCheckTimeout('checks:\n  interval_ms: 1\napi:\n  timeout_ms: 5\n'), undefined, 'another section')
  t.equal(peekCheckTimeout('checks: { timeout_ms: 5 }\n'), undefined, 'flow style: left to the loader')
  t.equal(peekCheckTimeout('checks:\n  timeout_ms: 2s\n'), undefined)
  t.equal(peekCheckTimeout(''), undefined)
})

t.test('peekRuntimeDir: plain, quoted and commented forms; the default otherwise', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-peek-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const at = (text: string) => {
    const p = join(dir, 'c.yaml')
    writeFileSync(p, text)
    return peekRuntimeDir(p)
  }
  t.equal(at('runtime_dir: /run/x\n'), '/run/x')
  t.equal(at('node: a\nruntime_dir: "/run/with space"  # why\n'), '/run/with space')
  t.equal(at("runtime_dir: '/run/q'\n"), '/run/q')
  t.equal(at('checks:\n  runtime_dir: /nested\n'), '/run/ha-agent', 'a nested key is not the top-level one')
  t.equal(at('{ runtime_dir: /flow }\n'), '/run/ha-agent', 'flow style is left to the loader')
  t.equal(peekRuntimeDir(join(dir, 'missing.yaml')), '/run/ha-agent')
})

t.test('resolveConfigPath: --config, else $HA_AGENT_CONFIG, else /etc/ha-agent/config.yaml', async (t) => {
  t.equal(resolveConfigPath('/a.yaml', { HA_AGENT_CONFIG: '/b.yaml' }), '/a.yaml')
  t.equal(resolveConfigPath(undefined, { HA_AGENT_CONFIG: '/b.yaml' }), '/b.yaml')
  t.equal(resolveConfigPath(undefined, {}), '/etc/ha-agent/config.yaml')
})

t.test('the defaults the fast paths use are the schema\'s, and the sh launcher\'s', async (t) => {
  const { buildConfig } = await import('../../src/config/index.js')
  const { readFileSync } = await import('node:fs')
  const config = buildConfig({}, null, { env: {} })
  t.same([config.runtime_dir, config.state_dir, config.checks.timeout_ms], [DEFAULT_RUNTIME_DIR, DEFAULT_STATE_DIR, DEFAULT_CHECK_TIMEOUT_MS])
  const launcher = readFileSync(new URL('../../src/launcher/ha-agent.sh', import.meta.url), 'utf8')
  t.match(launcher, new RegExp(`^HA_AGENT_DEFAULT_CONFIG=${DEFAULT_CONFIG_PATH}$`, 'm'))
  t.match(launcher, new RegExp(`^HA_AGENT_DEFAULT_RUNTIME_DIR=${DEFAULT_RUNTIME_DIR}$`, 'm'))
})
