// No file in src/ runs past MAX_LINES: a file that long does several things,
// and each should have a file of its own that says why it exists.
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')
const MAX_LINES = 250

/** Lines as `wc -l` counts them, plus a last one without its newline. */
const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') || text === '' ? 1 : 0)

function* filesUnder(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* filesUnder(path)
    else yield path
  }
}

t.test(`every file in src/ has at most ${MAX_LINES} lines`, async (t) => {
  const files = [...filesUnder(SRC)]
  t.ok(files.length > 100, `read src/ (${files.length} files)`)
  const long = files
    .map((path) => ({ file: relative(SRC, path), lines: lineCount(readFileSync(path, 'utf8')) }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `src/${f.file}: ${f.lines} lines (at most ${MAX_LINES}: split it along what it does)`)
  t.same(long, [], long.join('\n'))
})

t.test('lines counted as wc -l does', async (t) => {
  t.same(['', 'a', 'a\n', 'a\nb', 'a\nb\n'].map(lineCount), [0, 1, 1, 2, 2])
})
