// The `<N>` prefix against a real systemd-journald, started by the test in a
// private mount namespace with its own /run and /var/log/journal on tmpfs (the
// host's journal is never touched). Lines go through systemd-cat, the stdout
// stream protocol a service's StandardOutput=journal uses, and are read back with
// journalctl. Needs root, unshare and mount (util-linux) and systemd.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FIXTURE = fileURLToPath(new URL('../fixtures/journald-logger.ts', import.meta.url))
const tsLoader = process.execArgv.filter((a) => a.includes('@tapjs/typescript') || a.includes('tsx') || a.includes('ts-node'))
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
const node = [process.execPath, ...tsLoader, FIXTURE].map(q).join(' ')

const dir = mkdtempSync(join(tmpdir(), 'ha-journald-'))
const script = join(dir, 'run.sh')
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(
  script,
  `set -eu
# A fresh /run (and /var/log/journal, where the image has one): journald finds no
# persistent journal and writes to /run/log/journal. Nothing is created on the host.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd /run/log
if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755 tmpfs /var/log/journal; fi
journald=$(ls /usr/lib/systemd/systemd-journald /lib/systemd/systemd-journald 2>/dev/null | head -n1)
"$journald" >${q(join(dir, 'journald.log'))} 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for i in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.05; done
[ -S /run/systemd/journal/stdout ] || { echo "journald did not start: $(cat ${q(join(dir, 'journald.log'))})" >&2; exit 1; }
systemd-cat -t ha-agent-prefix ${node} prefix
systemd-cat -t ha-agent-plain ${node} plain
journalctl --sync
echo '== all'
journalctl -o json --no-pager -t ha-agent-prefix -t ha-agent-plain
echo '== warning'
journalctl -o cat --no-pager -t ha-agent-prefix -p warning
`,
)

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      resolve({ code, stdout, stderr })
    })
  })
}

t.test('journald reads the priority from the prefix and keeps the JSON', async (t) => {
  t.equal(process.getuid?.(), 0, 'runs as root (mount namespace, journald)')
  const r = await run(['unshare', '--mount', '--propagation', 'private', 'bash', script])
  t.equal(r.code, 0, r.stderr)
  const [all, warning] = r.stdout.split('== warning\n')
  const entries = all!
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, string>)
  const by = (tag: string) => entries.filter((e) => e.SYSLOG_IDENTIFIER === tag).map((e) => ({ priority: Number(e.PRIORITY), json: JSON.parse(e.MESSAGE!) }))

  const prefixed = by('ha-agent-prefix')
  t.same(
    prefixed.map((e) => `${e.json.level}:${e.priority}`),
    ['fatal:2', 'error:3', 'warn:4', 'info:6', 'debug:7', 'trace:7'],
    'PRIORITY from the prefix',
  )
  t.match(prefixed[1]!.json, { level: 'error', node: 'jtest', check: 'pgbouncer', msg: 'lvl error' }, 'MESSAGE is the JSON line, prefix stripped')

  const plain = by('ha-agent-plain')
  t.same(plain.map((e) => e.priority), [6, 6, 6, 6, 6, 6], 'without the prefix every line is info: the problem this solves')

  t.same(
    warning!.trim().split('\n').map((l) => JSON.parse(l).level),
    ['fatal', 'error', 'warn'],
    'journalctl -p warning shows fatal, error and warn only',
  )
})
