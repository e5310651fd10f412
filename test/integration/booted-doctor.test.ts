// `ha-agent doctor` on an installed node: two booted Debian 13 nodes with the
// .deb installed by vagrant/provision.sh (lab.sh up --booted). As installed it
// is clean; with a drop-in that puts the unit in a user namespace of its own
// (PrivateUsers=yes: the sandbox systemd/ha-agent.service's comment says why it
// must not have) it names the sandbox, and the notify claims it then refuses.
import t from 'tap'
import { startLab } from '../fixtures/lab.js'
import { waitFor } from '../fixtures/procs.js'

const lab = await startLab(t, { booted: true })
await lab.waitForHolder('1', 30_000)
const DROP_IN = '/etc/systemd/system/ha-agent.service.d/doctor-test.conf'

/** doctor inside node 1, as an operator runs it there (root, the installed files, their defaults). */
async function doctor(): Promise<{ code: number; out: string; problems: string[] }> {
  let code = 0
  let out: string
  try {
    out = await lab.sh('exec', '1', 'ha-agent', 'doctor')
  } catch (err) {
    const e = err as { code: number; stdout: string }
    code = e.code
    out = e.stdout
  }
  return { code, out, problems: out.split('\n').filter((l) => /^(error|warning) /.test(l)) }
}

const peersPolled = () =>
  waitFor('node 1 ready, its peer polled', async () => {
    const s = await lab.exec(1, ['ha-agent', 'status', '--json']).then(JSON.parse).catch(() => undefined)
    return s?.ready && s.peers.every((p: { reachable: boolean }) => p.reachable) ? true : undefined
  }, 30_000, 250)

t.test('an installed node: doctor is clean, exit 0', async (t) => {
  await peersPolled()
  const r = await doctor()
  t.equal(r.code, 0, 'exit 0', { out: r.out })
  t.same(r.problems, [])
  t.match(r.out, /^ok +\/etc\/keepalived\/keepalived\.conf:\d+: vrrp_instance VI_1 tracks \/run\/ha-agent\/fault with weight 0/m)
  t.match(r.out, /^ok +daemon notify: no notify claim refused \(ha-agent\.service: PrivateUsers=no, ProtectProc=invisible\)$/m)
  t.comment(r.out)
})

// PrivateUsers= needs a user namespace, which the kernel refuses to a chrooted
// caller (user_namespaces(7): EPERM); started from a chroot (a fresh-root CI),
// nspawn cannot pivot_root and leaves the node's processes chrooted, so the unit
// would not even start there. Real hosts and a booted node from a real root can.
const userNamespaces = (await lab.exec(1, ['sh', '-c', 'unshare --user true 2>/dev/null && echo yes || echo no'])).trim() === 'yes'
t.test('with PrivateUsers=yes in a drop-in: doctor names the sandbox and the refused notifies, exit 2', {
  skip: !userNamespaces && 'this node cannot create user namespaces (its nspawn was started from a chroot), so PrivateUsers=yes cannot be tried here',
}, async (t) => {
  await lab.exec(1, ['sh', '-c', `mkdir -p ${DROP_IN.slice(0, DROP_IN.lastIndexOf('/'))} && printf '[Service]\\nPrivateUsers=yes\\n' >${DROP_IN} && systemctl daemon-reload && systemctl restart ha-agent`])
  try {
    // keepalived restarted: its notifies run, and the sandboxed daemon refuses their claims
    await lab.exec(1, ['systemctl', 'restart', 'keepalived'])
    const r = await waitFor('doctor to see refused notifies', async () => {
      const d = await doctor()
      return d.problems.some((l) => /notify claims? refused/.test(l)) ? d : undefined
    }, 30_000, 500)
    t.equal(r.code, 2)
    t.comment(r.problems.join('\n'))
    t.match(r.problems.find((l) => /notify claims? refused/.test(l)), new RegExp(`^error +daemon notify: \\d+ notify claims? refused since the daemon started \\(last: .*\\): ha-agent\\.service runs with PrivateUsers=yes \\(drop-ins: .*${DROP_IN}.*\\): in a user namespace of its own the daemon cannot see the \`ha-agent notify\` processes keepalived runs`))
    t.match(r.out, new RegExp(`— fix: remove PrivateUsers= from ${DROP_IN}, then systemctl daemon-reload && systemctl restart ha-agent`))
  } finally {
    await lab.exec(1, ['sh', '-c', `rm -f ${DROP_IN} && systemctl daemon-reload && systemctl restart ha-agent && systemctl restart keepalived`])
    await lab.waitForHolder('1', 30_000)
  }
  await peersPolled()
  const again = await doctor()
  t.equal(again.code, 0, 'clean again without the drop-in', { out: again.out })
})
