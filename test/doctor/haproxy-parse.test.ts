import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { haWords, parseHaproxyCfg } from '../../src/doctor/haproxy-parse.js'

const shippedText = readFileSync(fileURLToPath(new URL('../../haproxy/haproxy.cfg', import.meta.url)), 'utf8')

t.test('haproxy.cfg: stats sockets with their options, HAProxy\'s default level, frontends and backends with lines', async (t) => {
  const cfg = parseHaproxyCfg('/etc/haproxy/haproxy.cfg', shippedText)
  t.match(cfg.sockets, [
    { path: '/run/haproxy/ha-agent.sock', mode: 0o660, level: 'user', group: 'ha-agent', line: 14 },
    { path: '/run/haproxy/admin.sock', level: 'admin', group: 'haproxy' },
  ])
  t.same([...cfg.frontends.keys()], ['postgres', 'stats'])
  t.same([...cfg.backends.keys()], ['pgbouncers', 'stats'], 'a listen is both')
  const other = parseHaproxyCfg('x', 'global\n  stats socket ipv4@127.0.0.1:9999\n  stats socket unix@/run/x.sock # level admin\n')
  t.match(other.sockets, [{ address: 'ipv4@127.0.0.1:9999', path: undefined }, { path: '/run/x.sock', level: 'operator', levelWritten: false }])
  t.same(haWords('bind "a b" c\\ d # e'), ['bind', 'a b', 'c d'])
})

