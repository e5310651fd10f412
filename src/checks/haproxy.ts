import type { AgentConfig } from '../config/index.js'
import { haproxyCommand, infoFields, parseStatStatus } from '../haproxy/index.js'
import type { Finding } from './deadline.js'

type HaproxyCheckConfig = NonNullable<AgentConfig['checks']['haproxy']>

/** Sends a command on a connection held for the daemon (the HAProxy watch's); undefined when there is none now. */
export type HaproxyAsk = (command: string, timeoutMs: number) => Promise<string> | undefined

const COMMAND = 'show info;show stat'

/** `show info` answers, every configured backend has min_up servers UP, frontends OPEN. */
export async function probeHaproxy(cfg: HaproxyCheckConfig, timeoutMs: number, ask?: HaproxyAsk): Promise<Finding> {
  // Both commands on one connection (HAProxy runs `;`-separated commands in order
  // and ends each answer with an empty line): measured 0.4-0.5 instead of 0.8-1.1
  // ms of CPU per round with two connections. The daemon asks on the HAProxy
  // watch's held connection, which then needs no keep-alive of its own.
  const answer = await (ask?.(COMMAND, timeoutMs) ?? haproxyCommand(cfg.socket, COMMAND, timeoutMs))
  const cut = answer.indexOf('\n\n')
  const info = infoFields(cut < 0 ? answer : answer.slice(0, cut + 1))
  const rows = parseStatStatus(cut < 0 ? '' : answer.slice(cut + 2))
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
