import t from 'tap'
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { idsOfProcess, keepalivedArgs, keepalivedProcesses, unitFacts } from '../../src/doctor/processes.js'

t.test("keepalived's command line: -f and -r in their spellings, else keepalived's defaults", async (t) => {
  t.same(keepalivedArgs(['/usr/sbin/keepalived', '--dont-fork']), { configFile: '/etc/keepalived/keepalived.conf', vrrpPidFile: '/run/vrrp.pid' })
  t.same(keepalivedArgs(['keepalived', '-f', '/lab/n1/k.conf', '-r', '/lab/n1/vrrp.pid']), { configFile: '/lab/n1/k.conf', vrrpPidFile: '/lab/n1/vrrp.pid' })
  t.same(keepalivedArgs(['keepalived', '--use-file=/a.conf', '--vrrp_pid', '/b.pid']), { configFile: '/a.conf', vrrpPidFile: '/b.pid' })
  t.same(keepalivedArgs(['keepalived', '-f/c.conf']), { configFile: '/c.conf', vrrpPidFile: '/run/vrrp.pid' })
})

t.test("keepalived's processes in this network namespace, children told apart, from a /proc", async (t) => {
  const proc = mkdtempSync(join(tmpdir(), 'ha-agent-doctor-proc-'))
  t.teardown(() => rmSync(proc, { recursive: true, force: true }))
  const own = readlinkSync('/proc/self/ns/net')
  const add = (pid: number, comm: string, ppid: number, argv: string[], net = own) => {
    mkdirSync(join(proc, String(pid), 'ns'), { recursive: true })
    writeFileSync(join(proc, String(pid), 'comm'), `${comm}\n`)
    writeFileSync(join(proc, String(pid), 'stat'), `${pid} (${comm}) S ${ppid} 1 1 0`)
    writeFileSync(join(proc, String(pid), 'cmdline'), argv.join('\0') + '\0')
    symlinkSync(net, join(proc, String(pid), 'ns', 'net'))
  }
  mkdirSync(join(proc, 'self', 'ns'), { recursive: true })
  symlinkSync(own, join(proc, 'self', 'ns', 'net'))
  add(1, 'systemd', 0, ['/sbin/init'])
  add(100, 'keepalived', 1, ['/usr/sbin/keepalived', '--dont-fork', '-f', '/n1/k.conf', '-r', '/n1/vrrp.pid'])
  add(101, 'keepalived', 100, ['/usr/sbin/keepalived', '--dont-fork', '-f', '/n1/k.conf', '-r', '/n1/vrrp.pid'])
  add(200, 'keepalived', 1, ['/usr/sbin/keepalived', '-f', '/n2/k.conf'], 'net:[4026530000]')
  t.same(keepalivedProcesses(proc), [
    { pid: 100, child: false, configFile: '/n1/k.conf', vrrpPidFile: '/n1/vrrp.pid' },
    { pid: 101, child: true, configFile: '/n1/k.conf', vrrpPidFile: '/n1/vrrp.pid' },
  ], "the other node's keepalived (another network namespace) is not this host's")
  writeFileSync(join(proc, '100', 'status'), 'Name:\tkeepalived\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n')
  t.same(idsOfProcess(100, proc, () => 'root:root'), { name: 'root', uid: 0, gids: [0] })
  t.equal(idsOfProcess(999, proc), undefined)
  t.same(keepalivedProcesses(join(proc, 'nope')), [])
})

t.test("the unit's sandbox from systemctl show, only where systemd runs", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-doctor-systemd-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let asked: string[] = []
  const run = async (_f: string, args: string[]) => {
    asked = args
    return 'LoadState=loaded\nPrivateUsers=yes\nProtectProc=invisible\nUser=ha-agent\nDropInPaths=/etc/systemd/system/ha-agent.service.d/x.conf /run/y.conf\n'
  }
  const dropIn = join(dir, 'private.conf')
  writeFileSync(dropIn, '[Service]\nPrivateUsers=yes\n')
  const withFile = async (f: string, a: string[]) => (await run(f, a)).replace('/run/y.conf', dropIn)
  t.same(await unitFacts('ha-agent.service', { systemdDir: dir, run: withFile }), { unit: 'ha-agent.service', loaded: true, privateUsers: 'yes', protectProc: 'invisible', user: 'ha-agent', dropIns: ['/etc/systemd/system/ha-agent.service.d/x.conf', dropIn], privateUsersIn: dropIn }, 'and the drop-in that sets PrivateUsers=')
  t.match(asked, ['show', 'ha-agent.service', '-p', 'LoadState', '-p', 'PrivateUsers', '-p', 'ProtectProc'])
  t.equal(await unitFacts('ha-agent.service', { systemdDir: join(dir, 'none'), run }), undefined, 'no systemd: nothing asked')
})
