// The one way files other processes read are written: modes whatever the
// umask, an mtime set before the file appears, a replace that readers see
// whole or not at all, link() as the exclusive step of publishOnce, and the
// fsyncs the caller asks for (seen by wrapping node:fs's fsyncSync).
import t from 'tap'
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFile, fsyncDir, publishOnce, writeFileAtomic } from '../../src/fs/atomic.js'

const tmp = (t: { teardown(fn: () => unknown): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-atomic-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
const mode = (path: string) => statSync(path).mode & 0o7777
const withUmask = <T>(mask: number, fn: () => T): T => {
  const old = process.umask(mask)
  try {
    return fn()
  } finally {
    process.umask(old)
  }
}

/** The paths fsync'd while `fn` runs: node:fs's fsyncSync and openSync wrapped (the module's named imports follow). */
function fsyncedPaths(fn: () => void): string[] {
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs')
  const { openSync: open, fsyncSync: fsync } = fs
  const pathOf = new Map<number, string>()
  const synced: string[] = []
  fs.openSync = ((path: string, flags: string, mode?: number) => {
    const fd = open(path, flags, mode)
    pathOf.set(fd, String(path))
    return fd
  }) as typeof fs.openSync
  fs.fsyncSync = (fd: number) => {
    synced.push(pathOf.get(fd) ?? `fd ${fd}`)
    fsync(fd)
  }
  syncBuiltinESMExports()
  try {
    fn()
  } finally {
    fs.openSync = open
    fs.fsyncSync = fsync
    syncBuiltinESMExports()
  }
  return synced
}

t.test('writeFileAtomic: the mode asked for whatever the umask; 0640 less the umask by default', async (t) => {
  const dir = tmp(t)
  withUmask(0o077, () => writeFileAtomic(join(dir, 'shared'), 'x', { fsync: false, mode: 0o644 }))
  t.equal(mode(join(dir, 'shared')), 0o644, 'keepalived (another user) reads the track_file')
  withUmask(0o027, () => writeFileAtomic(join(dir, 'default'), 'x', { fsync: false }))
  t.equal(mode(join(dir, 'default')), 0o640)
  withUmask(0o077, () => writeFileAtomic(join(dir, 'private'), 'x', { fsync: false }))
  t.equal(mode(join(dir, 'private')), 0o600)
  withUmask(0o077, () => writeFileAtomic(join(dir, 'shared'), 'y', { fsync: false, mode: 0o644 }))
  t.equal(mode(join(dir, 'shared')), 0o644, 'a replacement too')
})

t.test('writeFileAtomic: the mtime is set before the file appears (a verdict expiring in the future)', async (t) => {
  const dir = tmp(t)
  const expiry = new Date(Date.now() + 1800)
  writeFileAtomic(join(dir, 'verdict'), 'v', { fsync: false, mtime: expiry })
  // to the millisecond (seconds as a double on the way to the kernel may round the last digit)
  t.equal(Math.round(statSync(join(dir, 'verdict')).mtimeMs), expiry.getTime())
  const past = new Date('2020-01-01T00:00:00Z')
  writeFileAtomic(join(dir, 'verdict'), 'w', { fsync: false, mtime: past })
  t.equal(Math.round(statSync(join(dir, 'verdict')).mtimeMs), past.getTime())
})

t.test('writeFileAtomic replaces the file: a reader holding the old one reads it whole', async (t) => {
  const dir = tmp(t)
  const path = join(dir, 'state.json')
  writeFileAtomic(path, 'old content', { fsync: false })
  const reader = openSync(path, 'r')
  t.teardown(() => closeSync(reader))
  const inode = statSync(path).ino
  writeFileAtomic(path, 'new', { fsync: false })
  t.equal(readFileSync(path, 'utf8'), 'new')
  t.not(statSync(path).ino, inode, 'a new file renamed over the name, not the old one rewritten')
  const buf = Buffer.alloc(64)
  t.equal(buf.toString('utf8', 0, readSync(reader, buf, 0, 64, 0)), 'old content', 'never torn, never truncated under the reader')
  t.same(readdirSync(dir), ['state.json'], 'no temp file beside it')
  writeFileAtomic(path, new Uint8Array([0x31, 0x0a]), { fsync: false })
  t.equal(readFileSync(path, 'utf8'), '1\n', 'bytes too')
})

t.test('writeFileAtomic fails naming the path; the old content stays, no temp file is left', async (t) => {
  const dir = tmp(t)
  const path = join(dir, 'record.json')
  mkdirSync(path) // what cannot be replaced by a file
  const err = (() => {
    try {
      writeFileAtomic(path, 'x', { fsync: true })
    } catch (e) {
      return e as NodeJS.ErrnoException
    }
  })()
  t.match(err, { code: 'EISDIR' })
  t.match(err!.message, path)
  t.same(readdirSync(dir), ['record.json'], 'the temp file was removed')
  const missing = join(dir, 'no', 'such', 'dir', 'f')
  t.throws(() => writeFileAtomic(missing, 'x', { fsync: false }), { code: 'ENOENT', message: new RegExp(missing) })
})

t.test('writeFileAtomic: a temp file a crashed process of the same pid left does not fail the write', async (t) => {
  const dir = tmp(t)
  const path = join(dir, 'fault')
  writeFileSync(`${path}.${process.pid}.tmp`, 'half')
  writeFileAtomic(path, '1\n', { fsync: false })
  t.equal(readFileSync(path, 'utf8'), '1\n')
  t.same(readdirSync(dir), ['fault'])
})

t.test('fsync: the file and its directory when asked, nothing otherwise', async (t) => {
  const dir = tmp(t)
  const path = join(dir, 'vrrp.json')
  t.same(fsyncedPaths(() => writeFileAtomic(path, 'x', { fsync: true })), [`${path}.${process.pid}.tmp`, dir], 'the data before the rename, the directory after it')
  t.same(fsyncedPaths(() => writeFileAtomic(path, 'x', { fsync: false })), [], 'a tmpfs under /run needs none')
  t.same(fsyncedPaths(() => publishOnce(join(dir, 'once'), 'x', { fsync: true })), [`${join(dir, 'once')}.${process.pid}.tmp`])
  t.same(fsyncedPaths(() => createFile(join(dir, 'created'), 'x', { fsync: false })), [])
  t.same(fsyncedPaths(() => fsyncDir(dir)), [dir])
  t.throws(() => fsyncDir(join(dir, 'none')), { code: 'ENOENT' })
})

t.test('createFile: exclusive (EEXIST), with its mode', async (t) => {
  const dir = tmp(t)
  const path = join(dir, 'event.json')
  withUmask(0o077, () => createFile(path, '{}', { fsync: false, mode: 0o640 }))
  t.equal(mode(path), 0o640)
  t.throws(() => createFile(path, 'again', { fsync: false }), { code: 'EEXIST' })
  t.equal(readFileSync(path, 'utf8'), '{}', 'the first stays')
})

t.test('publishOnce: the first publisher wins, the others get false and leave it', async (t) => {
  const dir = tmp(t)
  const path = join(dir, 'boot-time')
  t.equal(publishOnce(path, 'first', { fsync: false, mode: 0o644 }), true)
  t.equal(publishOnce(path, 'second', { fsync: false }), false)
  t.equal(readFileSync(path, 'utf8'), 'first')
  t.equal(mode(path), 0o644)
  t.same(readdirSync(dir), ['boot-time'], 'no temp file either way')
  writeFileSync(`${join(dir, 'stale')}.${process.pid}.tmp`, 'left by a crash')
  t.equal(publishOnce(join(dir, 'stale'), 'fresh', { fsync: false }), true, 'a stale temp file of this pid is no obstacle')
  t.equal(readFileSync(join(dir, 'stale'), 'utf8'), 'fresh')
  t.throws(() => publishOnce(join(dir, 'no', 'dir'), 'x', { fsync: false }), { code: 'ENOENT' }, 'other errors are thrown')
})

t.test('publishOnce: of processes racing for the same path, exactly one wins and its content is whole', async (t) => {
  const dir = tmp(t)
  const path = join(dir, 'contested')
  const src = new URL('../../src/fs/atomic.js', import.meta.url).href
  const script = `import(${JSON.stringify(src)}).then((m) => process.stdout.write(String(m.publishOnce(${JSON.stringify(path)}, 'pid ' + process.pid + ' ' + 'x'.repeat(65536), { fsync: false }))))`
  const racer = () =>
    new Promise<{ pid: number; won: string }>((resolve, reject) => {
      const c = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      c.stdout.on('data', (d) => (out += d))
      c.on('error', reject)
      c.on('exit', () => resolve({ pid: c.pid!, won: out }))
    })
  const results = await Promise.all(Array.from({ length: 4 }, racer))
  const winners = results.filter((r) => r.won === 'true')
  t.equal(winners.length, 1, `one winner: ${results.map((r) => r.won).join(', ')}`)
  t.same(results.filter((r) => r.won === 'false').length, 3)
  t.equal(readFileSync(path, 'utf8'), `pid ${winners[0]!.pid} ${'x'.repeat(65536)}`, "the winner's content, whole")
  t.same(readdirSync(dir), ['contested'])
  t.notOk(existsSync(`${path}.${winners[0]!.pid}.tmp`))
})
