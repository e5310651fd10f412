// The esbuild bundle: dist/ha-agent.js plus lazily loaded chunks, runnable on
// Node.js >= 20 with no node_modules. Code splitting keeps `ha-agent check` (run
// by keepalived every second) from parsing fastify, pino, pg and prom-client: it
// loads only the entry and its own chunks. The metafile (dist/meta.json) shows
// what each path pulls in.
import { build } from 'esbuild'
import { readFileSync, writeFileSync, chmodSync, mkdirSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

// pg picks node:net or Cloudflare's sockets when it loads (pg/lib/stream.js), and on
// Node.js 20 its test, `typeof Response`, loads undici and compiles undici's
// WebAssembly HTTP parser: +13 MB RSS in a bare process, 2-4 MB in the lab's
// daemon (bench/RESULTS.md), for a fetch nobody makes; and a crash under
// --jitless (no WebAssembly). This bundle is for Node.js only (cloudflare:sockets
// is external below), so the answer is known: no.
const pgOnNodeOnly = {
  name: 'pg-on-node-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8')
      const contents = source.replace(/^function isCloudflareRuntime\(\) \{$/m, 'function isCloudflareRuntime() {\n  return false')
      if (contents === source) throw new Error(`build: ${args.path} no longer has isCloudflareRuntime(): check the pg-on-node-only plugin`)
      return { contents, loader: 'js' }
    })
  },
}

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
  // Names stay (stack traces name their functions); whitespace goes: V8 keeps every
  // script's source in the heap for as long as the process lives, and the daemon's
  // RSS fell by 2-4 MB with it (bench/RESULTS.md, daemon variants).
  minifyWhitespace: true,
  define: { __VERSION__: JSON.stringify(pkg.version) },
  // pg's optional native binding and Cloudflare socket shim are never used here.
  external: ['pg-native', 'cloudflare:sockets'],
  plugins: [pgOnNodeOnly],
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

// dist/ha-agent: the sh launcher (src/launcher/ha-agent.sh) for this tree: Node.js
// from PATH, the bundle next to the launcher. deb/build.sh and lab/lab.sh set
// their own paths with one sed on the HA_AGENT_NODE= and HA_AGENT_JS= lines.
const launcher = readFileSync('src/launcher/ha-agent.sh', 'utf8')
const devPaths = launcher
  .replace(/^HA_AGENT_NODE=.*$/m, 'HA_AGENT_NODE=node')
  // $0 is the path the launcher was started by (the kernel passes it on): ${0%/*} is its directory.
  .replace(/^HA_AGENT_JS=.*$/m, 'HA_AGENT_JS=${0%/*}/ha-agent.js')
if (devPaths === launcher || !devPaths.includes('HA_AGENT_JS=${0%/*}')) throw new Error('build: src/launcher/ha-agent.sh has lost its HA_AGENT_NODE=/HA_AGENT_JS= lines')
writeFileSync('dist/ha-agent', devPaths, { mode: 0o755 })
chmodSync('dist/ha-agent', 0o755)
console.log(`dist/ha-agent.js ${(result.metafile.outputs['dist/ha-agent.js'].bytes / 1024).toFixed(0)} KiB + ${outputs.length - 1} chunks, ${(total / 1024).toFixed(0)} KiB in all`)
