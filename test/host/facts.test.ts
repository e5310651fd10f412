import t from 'tap'
import { hostname, release } from 'node:os'
import { formatHostFacts, hostFacts } from '../../src/host/index.js'

t.test('facts of this host: node:os at once, systeminformation for the OS and memory', async (t) => {
  const f = await hostFacts({ timeoutMs: 10_000 })
  t.ok(f.hostname.startsWith(hostname()), `${f.hostname} (fqdn) starts with ${hostname()}`)
  t.equal(f.kernel, release())
  t.not(f.os, 'unknown OS', f.os)
  t.ok(f.uptime_s > 0)
  t.equal(f.load.length, 3)
  t.ok(f.memory && f.memory.total_bytes > 0 && f.memory.available_bytes > 0 && f.memory.available_bytes <= f.memory.total_bytes)
})

t.test('a deadline: what is not there in time is left out, the rest is answered', async (t) => {
  const f = await hostFacts({ timeoutMs: 1 })
  t.equal(f.kernel, release(), 'node:os answers at once')
  t.equal(f.memory, null, 'systeminformation was not waited for')
})

t.test('one line for people', async (t) => {
  t.equal(
    formatHostFacts({ hostname: 'ha1', os: 'Debian GNU/Linux 13 (trixie)', kernel: '6.12.0', uptime_s: 3 * 86400 + 4 * 3600 + 60, load: [0.1, 0.25, 1], memory: { total_bytes: 4 * 2 ** 30, available_bytes: 1.5 * 2 ** 30 } }),
    'host ha1: Debian GNU/Linux 13 (trixie), Linux 6.12.0, up 3d 4h, load 0.10 0.25 1.00, memory 1.5 GiB of 4.0 GiB available\n',
  )
  t.match(formatHostFacts({ hostname: 'ha1', os: 'unknown OS', kernel: '6.1', uptime_s: 59 * 60, load: [0, 0, 0], memory: null }), /, up 59m, load 0\.00 0\.00 0\.00\n$/)
})
