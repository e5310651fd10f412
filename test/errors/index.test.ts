// The error registry: stable codes and exit codes (scripts and the CLI branch
// on them, never on message text), what each class carries, and how a system
// error reads for an operator.
import t from 'tap'
import { readFileSync } from 'node:fs'
import {
  AgentError, ConfigError, describeSystemError, ERROR_CODES, EXIT, ExitError, hasCode,
  PartError, SocketError, StorageError, TimeoutError, UsageError, type ErrorCode,
} from '../../src/errors/index.js'

t.test('the codes and exit codes are a contract: changing one is a breaking change', async (t) => {
  t.same(Object.keys(ERROR_CODES), [
    'HA_EXIT',
    'HA_ERR_USAGE',
    'HA_ERR_CONFIG',
    'HA_ERR_STORAGE',
    'HA_ERR_TIMEOUT',
    'HA_ERR_UNAVAILABLE',
    'HA_ERR_SOCKET',
    'HA_ERR_PROTOCOL',
    'HA_ERR_PART',
  ])
  t.same(EXIT, { OK: 0, FAILED: 1, USAGE: 2, CONFIG: 78 })
  // 78 (sysexits' EX_CONFIG) is the one exit the unit does not restart on: a broken config would loop.
  const unit = readFileSync(new URL('../../systemd/ha-agent.service', import.meta.url), 'utf8')
  t.match(unit, new RegExp(`^RestartPreventExitStatus=${EXIT.CONFIG}$`, 'm'), 'systemd/ha-agent.service names EXIT.CONFIG')
  t.ok(Object.isFrozen(EXIT) && Object.isFrozen(ERROR_CODES), 'nobody can change them at run time')
  for (const [code, meaning] of Object.entries(ERROR_CODES)) t.ok(meaning.length > 10, `${code} says what it means`)
})

t.test('each class: its code, its exit code, its name, and an Error all the same', async (t) => {
  const cases: Array<[AgentError, ErrorCode, number, string]> = [
    [new ExitError(3, 'bye'), 'HA_EXIT', 3, 'ExitError'],
    [new UsageError('--bogus'), 'HA_ERR_USAGE', 2, 'UsageError'],
    [new ConfigError([{ path: 'node', message: 'empty' }]), 'HA_ERR_CONFIG', 78, 'ConfigError'],
    [new StorageError('full'), 'HA_ERR_STORAGE', 1, 'StorageError'],
    [new TimeoutError('slow', 300), 'HA_ERR_TIMEOUT', 1, 'TimeoutError'],
    [new SocketError('HA_ERR_UNAVAILABLE', 'nobody there', 'ENOENT'), 'HA_ERR_UNAVAILABLE', 1, 'SocketError'],
    [new SocketError('HA_ERR_PROTOCOL', 'garbled'), 'HA_ERR_PROTOCOL', 1, 'SocketError'],
    [new PartError('api', new Error('EADDRINUSE')), 'HA_ERR_PART', 1, 'PartError'],
  ]
  for (const [err, code, exitCode, name] of cases) {
    t.ok(err instanceof Error && err instanceof AgentError, `${name} is an Error and an AgentError`)
    t.same([err.code, err.exitCode, err.name], [code, exitCode, name], name)
    t.ok(err.code in ERROR_CODES, `${err.code} is registered`)
  }
  t.equal(new ExitError(1).message, '', 'an ExitError may say nothing')
  t.equal(new AgentError('HA_ERR_SOCKET', 'x').exitCode, EXIT.FAILED, 'exit 1 unless said otherwise')
})

t.test('hasCode: ours with that code, nothing else (not a look-alike, not a Node.js error)', async (t) => {
  const timeout = new TimeoutError('slow', 300)
  t.equal(hasCode(timeout, 'HA_ERR_TIMEOUT'), true)
  t.equal(hasCode(timeout, 'HA_ERR_SOCKET'), false)
  t.equal(hasCode(Object.assign(new Error('x'), { code: 'HA_ERR_TIMEOUT' }), 'HA_ERR_TIMEOUT'), false, 'a plain Error carrying the code')
  t.equal(hasCode({ code: 'HA_ERR_TIMEOUT' }, 'HA_ERR_TIMEOUT'), false, 'an object')
  t.equal(hasCode(undefined, 'HA_ERR_TIMEOUT'), false)
  t.equal(hasCode('HA_ERR_TIMEOUT', 'HA_ERR_TIMEOUT'), false)
})

t.test('what each class carries', async (t) => {
  t.equal(new TimeoutError('slow', 300).timeoutMs, 300)
  t.equal(new SocketError('HA_ERR_UNAVAILABLE', 'x', 'ECONNREFUSED').errno, 'ECONNREFUSED')
  t.equal(new SocketError('HA_ERR_SOCKET', 'x').errno, undefined)
  const cause = new Error('ENOSPC')
  t.equal(new StorageError('cannot store', { cause }).cause, cause)

  const part = new PartError('control socket', cause)
  t.same([part.part, part.message, part.cause], ['control socket', 'cannot start control socket: ENOSPC', cause])
  t.equal(new PartError('api', 'a string').message, 'cannot start api: a string', 'a thrown non-Error')

  const problems = [
    { path: 'webhooks[0].url', message: 'Invalid URL' },
    { path: 'checks.timeout_ms', message: 'too big' },
  ]
  const config = new ConfigError(problems, '/etc/ha-agent/config.yaml')
  t.equal(config.message, '/etc/ha-agent/config.yaml: webhooks[0].url: Invalid URL\nchecks.timeout_ms: too big')
  t.equal(new ConfigError(problems).message, 'webhooks[0].url: Invalid URL\nchecks.timeout_ms: too big', 'without a source')
  problems.push({ path: 'later', message: 'added after' })
  t.equal(config.problems.length, 2, 'a copy: the caller changing its list changes nothing')
  t.ok(Object.isFrozen(config.problems))
})

t.test('describeSystemError: an errno in words with its code; anything else as its message', async (t) => {
  const errno = (code: string, message = `${code}: something, open '/x'`) => Object.assign(new Error(message), { code })
  t.equal(describeSystemError(errno('ENOSPC')), 'no space left on device (ENOSPC)')
  t.equal(describeSystemError(errno('EROFS')), 'read-only file system (EROFS)')
  t.equal(describeSystemError(errno('ECONNREFUSED')), 'connection refused (ECONNREFUSED)')
  t.equal(describeSystemError(errno('EWHATEVER', 'EWHATEVER: odd')), 'EWHATEVER: odd (EWHATEVER)', 'an errno without words: its own message')
  t.equal(describeSystemError(new StorageError('outbox: cannot store')), 'outbox: cannot store', 'ours: the message, its code is no errno')
  t.equal(describeSystemError(new Error('plain')), 'plain')
  t.equal(describeSystemError('a string'), 'a string')
  t.equal(describeSystemError(undefined), 'undefined')
  // a real one, from the kernel
  const { statSync } = await import('node:fs')
  let real: unknown
  try {
    statSync('/nonexistent/ha-agent')
  } catch (err) {
    real = err
  }
  t.equal(describeSystemError(real), 'no such file or directory (ENOENT)')
})
