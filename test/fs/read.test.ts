// Reading files whose absence or damage the reader handles: the text or
// undefined; a JSON file's value, or missing, unreadable or invalid apart.
import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readJsonFile, readQuietly } from '../../src/fs/read.js'

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-read-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('readQuietly: the text, or undefined whatever the reason', async (t) => {
  writeFileSync(join(dir, 'text'), 'up\n')
  mkdirSync(join(dir, 'a-dir'))
  t.equal(readQuietly(join(dir, 'text')), 'up\n')
  t.equal(readQuietly(join(dir, 'nothing')), undefined, 'missing')
  t.equal(readQuietly(join(dir, 'a-dir')), undefined, 'a directory (EISDIR)')
})

t.test('readJsonFile tells missing, unreadable and invalid apart', async (t) => {
  writeFileSync(join(dir, 'ok.json'), '{"on":true}')
  writeFileSync(join(dir, 'bad.json'), '{"on":')
  writeFileSync(join(dir, 'null.json'), 'null')
  t.same(readJsonFile(join(dir, 'ok.json')), { value: { on: true } })
  t.same(readJsonFile(join(dir, 'null.json')), { value: null })
  t.same(readJsonFile(join(dir, 'nothing.json')), { missing: true })
  const unreadable = readJsonFile(join(dir, 'a-dir'))
  t.ok('unreadable' in unreadable && unreadable.unreadable.code === 'EISDIR', 'a directory is unreadable, with its code')
  const invalid = readJsonFile(join(dir, 'bad.json'))
  t.ok('invalid' in invalid && invalid.invalid instanceof SyntaxError, "not JSON: JSON.parse's error")
})
