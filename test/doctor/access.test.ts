import t from 'tap'
import { idNamer, lookupUser, mayAccess, processIds } from '../../src/doctor/access.js'
import { fakeStat } from '../fixtures/doctor.js'

const fs = fakeStat({
  '/': { uid: 0, gid: 0, mode: 0o755, dir: true },
  '/run': { uid: 0, gid: 0, mode: 0o755, dir: true },
  '/run/haproxy': { uid: 0, gid: 0, mode: 0o755, dir: true },
  '/run/haproxy/ha-agent.sock': { uid: 0, gid: 995, mode: 0o660, socket: true },
  '/run/haproxy/admin.sock': { uid: 0, gid: 106, mode: 0o660, socket: true },
  '/run/private': { uid: 0, gid: 0, mode: 0o700, dir: true },
  '/run/private/x': { uid: 999, gid: 995, mode: 0o600 },
})
const agent = { name: 'ha-agent', uid: 999, gids: [995] }

t.test('group bits for a member, other bits for the rest, search on every directory', async (t) => {
  t.same(mayAccess('/run/haproxy/ha-agent.sock', agent, 'w', fs), { ok: true })
  t.match(mayAccess('/run/haproxy/admin.sock', agent, 'w', fs), { ok: false, why: /\/run\/haproxy\/admin\.sock is 0:106 0660: ha-agent \(uid 999, gids 995\) may not write \(connect to\) it/ })
  t.same(mayAccess('/run/haproxy/admin.sock', { ...agent, gids: [995, 106] }, 'w', fs), { ok: true }, 'a supplementary group counts where the process has it')
  t.match(mayAccess('/run/private/x', agent, 'r', fs), { ok: false, why: /directory \/run\/private is 0:0 0700: ha-agent cannot enter it/ }, 'the owner of the file is stopped by the directory')
  t.match(mayAccess('/run/haproxy/nope.sock', agent, 'w', fs), { ok: false, why: '/run/haproxy/nope.sock: does not exist' })
  t.same(mayAccess('/run/private/x', { name: 'root', uid: 0, gids: [0] }, 'rw', fs), { ok: true }, 'root')
  t.match(mayAccess('/run/haproxy/admin.sock', agent, 'w', fs, (u, g) => `${u === 0 ? 'root' : u}:${g === 106 ? 'haproxy' : g}`), { why: /is root:haproxy 0660/ })
})

t.test('ids of a process from /proc/<pid>/status, supplementary groups included', async (t) => {
  t.same(processIds('Name:\tnode\nUid:\t999\t999\t999\t999\nGid:\t995\t995\t995\t995\nGroups:\t995 106 \n'), { name: 'uid 999', uid: 999, gids: [995, 106] })
  t.same(processIds('Uid:\t999\t999\t999\t999\nGid:\t995\t995\t995\t995\nGroups:\t\n'), { name: 'uid 999', uid: 999, gids: [995] }, 'no supplementary group: not gid 0')
  t.equal(processIds('garbage'), undefined)
})

t.test('a user by name through id(1); a group named instead of the primary one; supplementary groups dropped on request', async (t) => {
  const answers: Record<string, string> = { '-u': '999\n', '-g': '995\n', '-G': '995 106\n' }
  const run = async (file: string, args: string[]) => (file === 'id' ? answers[args[0]!] : file === 'getent' && args[1] === 'haproxy' ? 'haproxy:x:106:\n' : undefined)
  t.same(await lookupUser('ha-agent', { run }), { name: 'ha-agent', uid: 999, gids: [995, 106] })
  t.same(await lookupUser('ha-agent', { run, supplementary: false }), { name: 'ha-agent', uid: 999, gids: [995] }, "keepalived's script user: one group")
  t.same(await lookupUser('ha-agent', { run, group: 'haproxy', supplementary: false }), { name: 'ha-agent', uid: 999, gids: [106] })
  t.equal(await lookupUser('nobody-here', { run: async () => undefined }), undefined)
  t.equal(await lookupUser('ha-agent', { run, group: 'no-such-group' }), undefined)
})

t.test('names for uids and gids from passwd and group files', async (t) => {
  const files: Record<string, string> = { '/etc/passwd': 'root:x:0:0::/root:/bin/sh\nha-agent:x:999:995::/nonexistent:/usr/sbin/nologin\n', '/etc/group': 'root:x:0:\nha-agent:x:995:\n' }
  const names = idNamer((p) => files[p]!)
  t.equal(names(999, 995), 'ha-agent:ha-agent')
  t.equal(names(1234, 0), '1234:root')
})
