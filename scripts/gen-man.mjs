// Renders ha-agent(1) (roff) from src/cli/usage.ts, the same source as --help.
// Usage: node scripts/gen-man.mjs VERSION OUT_FILE
import { build } from 'esbuild'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [version, out] = process.argv.slice(2)
const dir = mkdtempSync(join(tmpdir(), 'ha-agent-man-'))
const bundled = join(dir, 'usage.mjs')
await build({ entryPoints: ['src/cli/usage.ts'], outfile: bundled, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' })
const { PROGRAM, COMMANDS, GLOBAL_OPTIONS, EXIT_CODES, SEE_ALSO } = await import(pathToFileURL(bundled).href)
rmSync(dir, { recursive: true, force: true })

// roff: escape backslashes and leading dots/quotes, hyphens in options.
const esc = (s) => s.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1')
const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).toISOString().slice(0, 10)
const lines = [
  `.TH HA\\-AGENT 1 "${date}" "ha-agent ${version}" "User Commands"`,
  '.SH NAME',
  `ha\\-agent \\- ${esc(PROGRAM.summary)}`,
  '.SH SYNOPSIS',
  ...COMMANDS.flatMap((c) => ['.B ha\\-agent', `[\\-\\-config \\fIPATH\\fR] ${esc(c.synopsis)}`, '.br']),
  '.SH DESCRIPTION',
  esc(PROGRAM.description),
  '.SH COMMANDS',
  ...COMMANDS.flatMap((c) => [
    '.TP',
    `.B ${esc(c.name)}`,
    esc(c.summary + (c.details ? `. ${c.details}` : '')),
    ...(c.options ?? []).flatMap(([flag, text]) => ['.RS', '.TP', `.B ${esc(flag)}`, esc(text), '.RE']),
  ]),
  '.SH OPTIONS',
  ...GLOBAL_OPTIONS.flatMap(([flag, text]) => ['.TP', `.B ${esc(flag)}`, esc(text)]),
  '.SH EXIT STATUS',
  ...EXIT_CODES.flatMap(([code, text]) => ['.TP', `.B ${code}`, esc(text)]),
  '.SH FILES',
  '.TP',
  '.I /etc/ha\\-agent/config.yaml',
  'configuration (YAML; every key is documented in the shipped file)',
  '.TP',
  '.I /var/lib/ha\\-agent',
  'the outbox (queue/), dead letters (dead/), the last VRRP state per instance (vrrp/), maintenance (maintenance.json) and the yield of a switchover (yield.json)',
  '.TP',
  '.I /run/ha\\-agent',
  'the control socket (agent.sock) and the keepalived track files (fault, yield)',
  '.SH SEE ALSO',
  '.BR keepalived.conf (5),',
  '.BR haproxy (1),',
  '.BR pgbouncer (1)',
  '.PP',
  esc(SEE_ALSO),
  '',
]
writeFileSync(out, lines.join('\n'))
