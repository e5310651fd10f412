import t from 'tap'
import { spawnSync } from 'node:child_process'
import { escapeInvalidUtf8, losslessArgv } from '../../src/cli/argv.js'

t.test('valid UTF-8 is kept; each invalid byte is \\xNN; backslashes are doubled only then', async (t) => {
  t.equal(escapeInvalidUtf8(Buffer.from('VI_1 Zürich ✓')), 'VI_1 Zürich ✓')
  t.equal(escapeInvalidUtf8(Buffer.from([0x56, 0x49, 0x5f, 0xfe])), 'VI_\\xfe')
  t.equal(escapeInvalidUtf8(Buffer.from([0x56, 0xff])), 'V\\xff')
  t.equal(escapeInvalidUtf8(Buffer.from([0xc0, 0xaf])), '\\xc0\\xaf', 'overlong /')
  t.equal(escapeInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80', 'a UTF-16 surrogate')
  t.equal(escapeInvalidUtf8(Buffer.from([0xe2, 0x9c])), '\\xe2\\x9c', 'a truncated sequence')
  t.equal(escapeInvalidUtf8(Buffer.from([0x5c, 0xff])), '\\\\\\xff', 'a literal backslash cannot fake an escape')
})

t.test('two names that differ only in invalid bytes stay two names through a real argv', async (t) => {
  const script = `import(${JSON.stringify(new URL('../../src/cli/argv.ts', import.meta.url).href)}).then((m) => console.log(JSON.stringify(m.losslessArgv())))`
  // spawn() encodes arguments as UTF-8: raw bytes go through printf in a shell.
  const viaShell = (hexName: string) =>
    spawnSync('sh', ['-c', `exec "$0" "$@" INSTANCE "$(printf '${hexName}')" MASTER`, process.execPath, ...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' })
  const a = viaShell('VI_\\376')
  const b = viaShell('VI_\\377')
  t.equal(a.status, 0, a.stderr)
  const argsA = JSON.parse(a.stdout) as string[]
  const argsB = JSON.parse(b.stdout) as string[]
  t.equal(argsA.at(-2), 'VI_\\xfe')
  t.equal(argsB.at(-2), 'VI_\\xff')
  t.equal(argsA.at(-1), 'MASTER')
})

t.test('without U+FFFD nothing is read; without /proc, argv as decoded', async (t) => {
  t.same(losslessArgv(['node', 'x', 'a', 'b'], '/nonexistent'), ['a', 'b'])
  t.same(losslessArgv(['node', 'x', 'VI_\uFFFD'], '/nonexistent'), ['VI_\uFFFD'])
})
