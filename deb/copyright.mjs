// debian/copyright (machine-readable) for the package: ha-agent's own licence
// and every npm package bundled into /usr/lib/ha-agent (from dist/meta.json).
import { readFileSync, existsSync, readdirSync } from 'node:fs'

const meta = JSON.parse(readFileSync('dist/meta.json', 'utf8'))
const packages = new Map()
for (const input of Object.keys(meta.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
  if (!m || packages.has(m[1])) continue
  const dir = input.slice(0, input.indexOf(m[1]) + m[1].length)
  const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'))
  const licenceFile = existsSync(dir) ? readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.md|\.txt)?$/i.test(f)) : undefined
  packages.set(m[1], { name: m[1], version: pkg.version, license: String(pkg.license ?? 'UNKNOWN'), text: licenceFile ? readFileSync(`${dir}/${licenceFile}`, 'utf8') : null })
}
const texts = new Map()
for (const p of packages.values()) if (p.text && !texts.has(p.license)) texts.set(p.license, p.text)

const indent = (text) => text.trim().split('\n').map((l) => (l.trim() ? ` ${l}` : ' .')).join('\n')
const mit = `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`
if (!texts.has('MIT')) texts.set('MIT', mit)
const licences = [...new Set([...packages.values()].map((p) => p.license))].sort()

const out = [
  'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
  'Upstream-Name: ha-agent',
  'Source: https://example.org/ha-agent',
  '',
  'Files: *',
  'Copyright: 2026 ha-agent developers',
  'License: MIT',
  '',
  'Files: usr/lib/ha-agent/*',
  'Copyright: 2026 ha-agent developers and the authors of the bundled npm packages',
  `License: MIT and ${licences.filter((l) => l !== 'MIT').join(' and ') || 'MIT'}`,
  'Comment: /usr/lib/ha-agent holds an esbuild bundle of ha-agent and these npm packages',
  ' (name version licence):',
  ...[...packages.values()].sort((a, b) => a.name.localeCompare(b.name)).map((p) => ` ${p.name} ${p.version} ${p.license}`),
  '',
]
// Licences Debian ships in /usr/share/common-licenses are referenced, not copied.
const common = new Set(existsSync('/usr/share/common-licenses') ? readdirSync('/usr/share/common-licenses') : [])
for (const l of ['MIT', ...licences.filter((x) => x !== 'MIT')]) {
  const body = common.has(l)
    ? `On Debian systems, the full text of the ${l} licence can be found in\n/usr/share/common-licenses/${l}.`
    : (texts.get(l) ?? `See the ${l} licence text shipped with the package sources.`)
  out.push(`License: ${l}`, indent(body), '')
}
process.stdout.write(out.join('\n'))
