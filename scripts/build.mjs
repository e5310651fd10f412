// One esbuild bundle, dist/ha-agent.js, runnable on Node.js >= 20.
// The metafile (dist/meta.json) shows what the `check` path pulls in.
import { build } from 'esbuild'
import { readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
mkdirSync('dist', { recursive: true })
const result = await build({
  entryPoints: ['src/bin.ts'],
  outfile: 'dist/ha-agent.js',
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
const bytes = result.metafile.outputs['dist/ha-agent.js'].bytes
console.log(`dist/ha-agent.js ${(bytes / 1024).toFixed(0)} KiB`)
