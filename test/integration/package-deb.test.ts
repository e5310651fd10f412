// The Debian package as operators get it: lintian, the unit's hardening, the
// Vagrantfile, and a clean-room install, upgrade and purge in a debootstrapped
// Debian 13 (trixie) root.
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string
const sh = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  execFileSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] })

const deb = join(ROOT, 'dist', `ha-agent_${VERSION}_all.deb`)
t.before(() => {
  sh('bash', ['deb/build.sh'])
})

t.test('lintian: no errors, no warnings', async (t) => {
  const r = spawnSync('lintian', ['--tag-display-limit', '0', deb], { encoding: 'utf8' })
  const tags = (r.stdout + r.stderr).split('\n').filter((l) => /^[EW]: /.test(l))
  t.same(tags, [], tags.join('\n') || 'lintian clean')
})

t.test('contents, modes and metadata', async (t) => {
  const listing = sh('dpkg-deb', ['-c', deb])
  for (const path of ['./usr/bin/ha-agent', './usr/lib/ha-agent/ha-agent.js', './etc/ha-agent/config.yaml', './usr/lib/systemd/system/ha-agent.service',
    './usr/share/doc/ha-agent/examples/keepalived.conf', './usr/share/doc/ha-agent/examples/haproxy.cfg', './usr/share/doc/ha-agent/examples/provision.sh', './usr/share/doc/ha-agent/copyright', './usr/share/man/man1/ha-agent.1.gz']) {
    t.match(listing, new RegExp(` ${path.replace(/\./g, '\\.')}$`, 'm'), path)
  }
  t.match(listing, /^-rwxr-xr-x root\/root .* \.\/usr\/bin\/ha-agent$/m)
  t.notMatch(listing, / \.\/lib\//, 'nothing under /lib (aliased to /usr/lib on merged-/usr Debian: lintian aliased-location)')
  const control = sh('dpkg-deb', ['-f', deb])
  t.match(control, /^Depends: nodejs \(>= 20\), adduser$/m)
  t.match(control, /^Recommends: keepalived, haproxy$/m)
  t.equal(sh('dpkg-deb', ['--ctrl-tarfile', deb]).length > 0, true)
  const conffiles = execFileSync('sh', ['-c', `dpkg-deb --ctrl-tarfile ${deb} | tar -xO ./conffiles`], { encoding: 'utf8' })
  t.equal(conffiles.trim(), '/etc/ha-agent/config.yaml')
  const copyright = execFileSync('sh', ['-c', `dpkg-deb --fsys-tarfile ${deb} | tar -xO ./usr/share/doc/ha-agent/copyright`], { encoding: 'utf8' })
  for (const bundled of ['fastify', 'pino', 'pg', 'zod', 'yaml', 'prom-client']) t.match(copyright, new RegExp(`^ ${bundled} \\S+ `, 'm'), `copyright lists ${bundled}`)
})

t.test('systemd unit: verify passes, exposure at most 2.0', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ha-agent-unit-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  sh('dpkg-deb', ['-x', deb, root])
  const unit = join(root, 'usr/lib/systemd/system/ha-agent.service')
  // verify wants the ExecStart binaries to exist: point them into the unpacked package.
  const copy = join(root, 'ha-agent.service')
  writeFileSync(copy, readFileSync(unit, 'utf8').replaceAll('/usr/bin/ha-agent', join(root, 'usr/bin/ha-agent')))
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' })
  const problems = (verify.stdout + verify.stderr).split('\n').filter((l) => l.trim() && !/^\s*$/.test(l))
  t.same(problems, [], problems.join('\n') || 'systemd-analyze verify: clean')
  const sec = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8' })
  const exposure = Number(/Overall exposure level for ha-agent\.service: ([\d.]+)/.exec(sec.stdout)?.[1])
  t.comment(`systemd-analyze security exposure: ${exposure}`)
  t.ok(exposure <= 2.0, `exposure ${exposure} <= 2.0`)
})

const noVagrant = spawnSync('which', ['vagrant']).status !== 0
t.test('Vagrantfile validates', { skip: noVagrant ? 'vagrant is not installed (apt-get install vagrant)' : false }, async (t) => {
  const r = spawnSync('vagrant', ['validate', '--ignore-provider'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VAGRANT_HOME: mkdtempSync(join(tmpdir(), 'vagrant-home-')) } })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.match(r.stdout, /validated successfully/)
})

const CACHE = '/var/cache/ha-agent-test/trixie-minbase.tar'

function chrootBase(): string | undefined {
  if (existsSync(CACHE)) return CACHE
  mkdirSync('/var/cache/ha-agent-test', { recursive: true })
  const build = mkdtempSync('/var/cache/ha-agent-test/build-')
  // mkdtemp makes it 0700, debootstrap keeps that, and tar records it as the mode of
  // the root it unpacks: every user but root would be locked out of the whole system.
  chmodSync(build, 0o755)
  const r = spawnSync('debootstrap', ['--variant=minbase', 'trixie', build, 'http://deb.debian.org/debian'], { encoding: 'utf8' })
  if (r.status !== 0) {
    rmSync(build, { recursive: true, force: true })
    return undefined
  }
  execFileSync('tar', ['-C', build, '-cf', `${CACHE}.tmp`, '.'])
  execFileSync('mv', [`${CACHE}.tmp`, CACHE])
  rmSync(build, { recursive: true, force: true })
  return CACHE
}

t.test('clean room: install on Debian 13, provision, check, upgrade, purge', async (t) => {
  const base = chrootBase()
  if (!base) {
    t.plan(0, 'skipped: debootstrap could not reach deb.debian.org')
    return
  }
  const root = mkdtempSync('/var/tmp/ha-agent-cleanroom-')
  const mounts: string[] = []
  t.teardown(() => {
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m])
    rmSync(root, { recursive: true, force: true })
  })
  sh('tar', ['-C', root, '-xf', base])
  // `/` as on any Debian system (mkdtemp's 0700, or one in a cache made before the
  // chmod above, would deny the ha-agent user everything: `Permission denied`).
  chmodSync(root, 0o755)
  for (const [src, dst, type] of [['proc', 'proc', 'proc'], ['/dev', 'dev', 'bind'], ['sysfs', 'sys', 'sysfs']] as const) {
    const target = join(root, dst)
    if (type === 'bind') sh('mount', ['--bind', src, target])
    else sh('mount', ['-t', type, src, target])
    mounts.push(target)
  }
  cpSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'))
  // Nothing installed in the chroot may start a service on this host.
  writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 })
  mkdirSync(join(root, 'tmp/debs'), { recursive: true })
  cpSync(deb, join(root, 'tmp/debs', `ha-agent_${VERSION}_all.deb`))
  cpSync(join(ROOT, 'vagrant/provision.sh'), join(root, 'tmp/provision.sh'))
  // A clean environment: nothing of the test runner's (NODE_OPTIONS!) leaks into the chroot.
  const cleanEnv = { DEBIAN_FRONTEND: 'noninteractive', PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root' }
  // `env -i`: tap instruments spawned processes through NODE_OPTIONS, which must not reach the chroot's node.
  const envArgs = (env: Record<string, string>) => Object.entries({ ...cleanEnv, ...env }).map(([k, v]) => `${k}=${v}`)
  const inRoot = (script: string, env: Record<string, string> = {}) =>
    execFileSync('env', ['-i', ...envArgs(env), 'chroot', root, '/bin/sh', '-c', script], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] })

  const started = Date.now()
  inRoot(`apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/debs/ha-agent_${VERSION}_all.deb`)
  const installMs = Date.now() - started
  t.comment(`clean-room install (apt-get update + install of the .deb and its dependencies): ${(installMs / 1000).toFixed(1)} s`)
  t.equal(inRoot('ha-agent --version').trim(), VERSION)
  t.match(inRoot('stat -c "%U:%G %a" /etc/ha-agent/config.yaml /var/lib/ha-agent'), /root:ha-agent 640\nha-agent:ha-agent 750/)
  t.match(inRoot('id ha-agent'), /ha-agent/)

  const provision = inRoot('bash /tmp/provision.sh', {
    HA_NODE: '1', HA_SELF_IP: '192.168.1.10', HA_PEER_IP: '192.168.1.11', HA_VIP: '192.168.1.100/24',
    HA_PGBOUNCER_IP: '192.168.1.5', HA_IFACE: 'enp0s8', HA_DEB: '/tmp/debs',
  })
  t.match(provision, /systemd is not running here; services not started/)
  t.notMatch(inRoot('id -nG ha-agent'), /haproxy/, 'ha-agent is not in the haproxy group: HAProxy gives it a socket of its own')
  t.match(inRoot('stat -c "%U:%G %a" /etc/ha-agent/cluster.token'), /root:ha-agent 640/, 'the API token, readable by the service only')
  t.match(inRoot('ha-agent config check'), /node: haproxy1/)
  // peers over https, verified against the pair's CA that provision made: the token never goes in clear text
  t.match(inRoot('ha-agent config check'), /https:\/\/192\.168\.1\.11:9471/)
  t.match(inRoot('openssl verify -CAfile /etc/ha-agent/cluster-ca.crt /etc/ha-agent/api.crt'), /api\.crt: OK/)
  t.match(inRoot('openssl x509 -in /etc/ha-agent/api.crt -noout -ext subjectAltName'), /IP Address:192\.168\.1\.10/)
  t.match(inRoot('stat -c "%U:%G %a" /etc/ha-agent/api.key /root/ha-agent-pair-ca/ca.key'), /root:ha-agent 640\nroot:root 600/, 'keys readable by the service only, the CA key by root only')
  t.match(inRoot('cat /etc/keepalived/keepalived.conf'), /priority 250/)

  // HAProxy with the shipped config in a network namespace of its own, then `ha-agent check` against it.
  const check = execFileSync('env', ['-i', ...envArgs({}), 'unshare', '--net', '--fork', 'chroot', root, '/bin/sh', '-c',
    'mkdir -p /run/haproxy && chown haproxy:haproxy /run/haproxy && haproxy -D -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid && sleep 0.5; ' +
    'runuser -u ha-agent -- ha-agent check --only haproxy --json; echo "exit=$?"; kill $(cat /run/haproxy.pid)'], { encoding: 'utf8' })
  const [json, exit] = check.trim().split('\n').slice(-2)
  const verdict = (() => {
    try {
      return JSON.parse(json!)
    } catch {
      throw new Error(`ha-agent check --json as the ha-agent user gave no JSON verdict:\n${check}`)
    }
  })()
  t.equal(exit, 'exit=1', 'unhealthy: no PgBouncer is reachable from the clean room')
  t.match(verdict.checks[0], { name: 'haproxy', status: 'fail', detail: 'backend pgbouncers: 0/3 servers UP, need 1' }, 'answered by the real HAProxy over its level-user socket, as the ha-agent user')

  // Upgrade: a rebuilt package with a changed conffile keeps the admin's config and the outbox.
  const confDir = mkdtempSync(join(tmpdir(), 'ha-agent-conf-'))
  t.teardown(() => rmSync(confDir, { recursive: true, force: true }))
  const changedConf = join(confDir, 'config.yaml')
  writeFileSync(changedConf, readFileSync(join(ROOT, 'deb/config.yaml'), 'utf8') + '# a new commented key in the next version\n')
  const next = `${VERSION.replace(/\d+$/, (n) => String(Number(n) + 1))}`
  sh('bash', ['deb/build.sh'], { env: { VERSION: next, CONFIG_YAML: changedConf } })
  cpSync(join(ROOT, 'dist', `ha-agent_${next}_all.deb`), join(root, 'tmp/debs', `ha-agent_${next}_all.deb`))
  rmSync(join(ROOT, 'dist', `ha-agent_${next}_all.deb`))
  inRoot('mkdir -p /var/lib/ha-agent/queue/ops && echo "{}" > /var/lib/ha-agent/queue/ops/msg_kept.json')
  inRoot(`apt-get install -y -q -o Dpkg::Options::=--force-confold /tmp/debs/ha-agent_${next}_all.deb`)
  t.equal(inRoot("dpkg-query -W -f='${Version}' ha-agent").trim(), next, 'upgraded')
  t.match(inRoot('cat /etc/ha-agent/config.yaml'), /^node: haproxy1$/m, "the admin's config is kept")
  t.ok(inRoot('ls /etc/ha-agent').includes('config.yaml.dpkg-dist'), "the new default is beside it as .dpkg-dist")
  t.match(inRoot('ls /var/lib/ha-agent/queue/ops'), /msg_kept\.json/, 'the outbox survives the upgrade')

  inRoot('apt-get purge -y -q ha-agent')
  t.equal(inRoot('ls -d /etc/ha-agent /var/lib/ha-agent 2>/dev/null || true').trim(), '', 'purge removes config and state')
  t.equal(inRoot('command -v ha-agent || true').trim(), '')
})
