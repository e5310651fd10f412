import type { AgentConfig } from '../config/index.js'
import { haproxyCommand, parseShowInfo, parseShowStat } from '../haproxy/index.js'
import type { Finding } from './deadline.js'

type HaproxyCheckConfig = NonNullable<AgentConfig['checks']['haproxy']>

/** `show info` answers, every configured backend has min_up servers UP, frontends OPEN. */
export async function probeHaproxy(cfg: HaproxyCheckConfig, timeoutMs: number): Promise<Finding> {
  const [infoText, statText] = await Promise.all([
    haproxyCommand(cfg.socket, 'show info', timeoutMs),
    haproxyCommand(cfg.socket, 'show stat', timeoutMs),
  ])
  const info = parseShowInfo(infoText)
  const rows = parseShowStat(statText)
  const problems: string[] = []
  const backends: Record<string, { up: number; total: number; min_up: number }> = {}
  for (const b of cfg.backends) {
    const servers = rows.filter((r) => r.pxname === b.name && r.type === 2)
    if (servers.length === 0 && !rows.some((r) => r.pxname === b.name && r.svname === 'BACKEND')) {
      problems.push(`backend ${b.name} not found`)
      continue
    }
    const up = servers.filter((r) => r.status.startsWith('UP')).length
    backends[b.name] = { up, total: servers.length, min_up: b.min_up }
    if (up < b.min_up) problems.push(`backend ${b.name}: ${up}/${servers.length} servers UP, need ${b.min_up}`)
  }
  const frontendRows = rows.filter((r) => r.svname === 'FRONTEND')
  const wanted = cfg.frontends ?? frontendRows.map((r) => r.pxname)
  for (const name of wanted) {
    const row = frontendRows.find((r) => r.pxname === name)
    if (!row) problems.push(`frontend ${name} not found`)
    else if (row.status !== 'OPEN') problems.push(`frontend ${name} is ${row.status}`)
  }
  const data = { pid: Number(info.Pid), version: info.Version, backends }
  if (problems.length) return { ok: false, detail: problems.join('; '), data }
  const summary = Object.entries(backends).map(([n, b]) => `${n} ${b.up}/${b.total} UP`)
  return { ok: true, detail: ['HAProxy ' + info.Version, ...summary].join(', '), data }
}
