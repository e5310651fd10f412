// The esbuild bundle: dist/ha-agent.js plus lazily loaded chunks, runnable on
// Node.js >= 20 with no node_modules. Code splitting keeps `ha-agent check` (run
// by keepalived every second) from parsing fastify, pino, pg and prom-client: it
// loads only the entry and its own chunks. The metafile (dist/meta.json) shows
// what each path pulls in.
import { build } from 'esbuild'
import { readFileSync, writeFileSync, chmodSync, mkdirSync, rmSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
rmSync('dist/chunks', { recursive: true, force: true })
mkdirSync('dist', { recursive: true })
const result = await build({
  entryPoints: { 'ha-agent': 'src/bin.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  metafile: true,
  legalComments: 'external',
  sourcemap: false,
  minifySyntax: true,
  define: { __VERSION__: JSON.stringify(pkg.version) },
  // pg's optional native binding and Cloudflare socket shim are never used here.
  external: ['pg-native', 'cloudflare:sockets'],
  banner: {
    js: [
      '#!/usr/bin/env node',
      // CommonJS dependencies (pino, fastify, pg) call require(); give them one.
      "import { createRequire as __haCreateRequire } from 'node:module';",
      'const require = __haCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
})
writeFileSync('dist/meta.json', JSON.stringify(result.metafile))
chmodSync('dist/ha-agent.js', 0o755)
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'))
const total = outputs.reduce((s, [, o]) => s + o.bytes, 0)
console.log(`dist/ha-agent.js ${(result.metafile.outputs['dist/ha-agent.js'].bytes / 1024).toFixed(0)} KiB + ${outputs.length - 1} chunks, ${(total / 1024).toFixed(0)} KiB in all`)
