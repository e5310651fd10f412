// keepalived's track_file as written and read: "1"/"0" plus a newline, 0644
// whatever the umask (keepalived reads it as another user), replaced whole.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readTrackFile, trackValue, writeTrackFile } from '../../src/keepalived/track-file.js'

t.test('written as keepalived reads it, its directory made', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-track-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'run', 'fault')
  const old = process.umask(0o077)
  try {
    writeTrackFile(path, true)
  } finally {
    process.umask(old)
  }
  t.equal(readFileSync(path, 'utf8'), '1\n')
  t.equal(statSync(path).mode & 0o777, 0o644)
  writeTrackFile(path, false)
  t.equal(readFileSync(path, 'utf8'), '0\n')
  t.same(readdirSync(join(dir, 'run')), ['fault'], 'no temp file left')
  t.same([trackValue(true), trackValue(false)], ['1', '0'])
})

t.test('read back trimmed, whoever wrote it; undefined when there is none', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-track-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'fault')
  t.equal(readTrackFile(path), undefined)
  writeTrackFile(path, true)
  t.equal(readTrackFile(path), '1')
  writeFileSync(path, ' garbage \n')
  t.equal(readTrackFile(path), 'garbage', 'an operator edit is read as it is, for the log')
})
