import type { Command } from '../cli/context.js'
import { parseCommandArgs } from '../cli/args.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { EXIT, ExitError, hasCode, UsageError } from '../errors/index.js'
import { statusSnapshotSchema, type StatusSnapshot } from '../api/status.js'
import { formatHostFacts, hostFacts, type HostFacts } from '../host/index.js'

function ago(iso: string | undefined): string {
  if (!iso) return '-'
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n'
}

/** The whole pair as an operator wants to see it (and this host, when its facts are given). */
export function formatStatus(s: StatusSnapshot, host?: HostFacts): string {
  const out: string[] = []
  if (host) out.push(formatHostFacts(host) + '\n')
  const nodes: string[][] = [['NODE', 'INSTANCE', 'STATE', 'PRIORITY', 'SINCE', 'HEALTHY']]
  const addNode = (node: string, healthy: boolean | undefined, instances: StatusSnapshot['instances'] | undefined, note = '') => {
    if (!instances?.length) nodes.push([node, '-', note || 'unknown', '-', '-', healthy === undefined ? '?' : healthy ? 'yes' : 'NO'])
    for (const i of instances ?? []) nodes.push([node, i.name, i.state, String(i.priority ?? '-'), ago(i.since), healthy ? 'yes' : 'NO'])
  }
  const marks = (m: { on: boolean } | undefined, y: boolean | undefined) => `${m?.on ? ' [maintenance]' : ''}${y ? ' [yielding]' : ''}`
  addNode(`${s.node} (this)${marks(s.maintenance, s.yielding)}`, s.healthy, s.instances)
  for (const p of s.peers) addNode(`${p.node ?? p.url}${marks(p.maintenance, p.yielding)}`, p.healthy, p.instances, p.reachable ? '' : `unreachable: ${p.error ?? ''}`)
  out.push(table(nodes))
  const masters = [s, ...s.peers].flatMap((n) => ((n.instances ?? []) as StatusSnapshot['instances']).filter((i) => i.state === 'MASTER').map((i) => `${i.name} on ${'url' in n ? (n.node ?? n.url) : n.node}`))
  out.push(`VIP holder: ${masters.length ? masters.join(', ') : 'none known'}\n`)
  for (const sb of s.split_brain) out.push(`SPLIT BRAIN: ${sb.instance} MASTER on ${s.node} and ${sb.peers.join(', ')} since ${ago(sb.since)}\n`)
  if (s.maintenance.on) out.push(`MAINTENANCE: ${s.node} stays out of MASTER since ${s.maintenance.since ?? '?'}${s.maintenance.reason ? ` (${s.maintenance.reason})` : ''}: \`ha-agent maintenance off\` ends it\n`)
  if (s.yielding) out.push(`yielding: ${s.node} runs 2 below its priority since a switchover away from it, until it is the target of one\n`)
  if (s.switchover) out.push(`switchover under way: handing the VIP over to ${s.switchover.to} since ${ago(s.switchover.since)}\n`)
  if (s.track_file) out.push(`track_file ${s.track_file.path}: ${s.track_file.fault ? 'FAULT' : 'ok'} (${s.track_file.reason})\n`)
  out.push('\n' + table([['CHECK', 'STATUS', 'LATENCY', 'DETAIL'], ...s.checks.map((c) => [c.name, c.status, `${Math.round(c.latency_ms)}ms`, c.detail])]))
  out.push(`\noutbox: ${s.outbox.pending} pending, ${s.outbox.dead} dead\n`)
  for (const w of s.webhooks) out.push(`  webhook ${w.name}: ${w.pending} pending, ${w.dead} dead${w.last_error ? `, last error: ${w.last_error}` : ''}\n`)
  if (s.recent_transitions.length) {
    out.push('\nrecent transitions:\n')
    for (const t of s.recent_transitions.slice(0, 10)) out.push(`  ${t.at}  ${t.instance} -> ${t.state} (${t.source})\n`)
  }
  return out.join('')
}

export const status: Command = async (ctx) => {
  const { values, positionals } = parseCommandArgs('status', ctx.args, { json: { type: 'boolean' } })
  if (positionals.length) throw new UsageError(`status: unexpected argument "${positionals[0]}"`)
  const config = await ctx.loadConfig()
  const socket = controlSocketPath(config.runtime_dir)
  // For people only (--json stays the daemon's snapshot): gathered while the daemon answers.
  const facts = values.json ? undefined : hostFacts({ timeoutMs: 2000 })
  let res
  try {
    res = await controlRequest(socket, { op: 'status' }, 3000)
  } catch (err) {
    if (hasCode(err, 'HA_ERR_UNAVAILABLE')) throw new ExitError(EXIT.FAILED, `status: daemon not running (no control socket at ${socket})`)
    throw new ExitError(EXIT.FAILED, `status: ${(err as Error).message}`)
  }
  if (!res.ok || !('status' in res)) throw new ExitError(EXIT.FAILED, `status: ${'error' in res ? res.error : 'unexpected answer'}`)
  // What another process sent (perhaps a daemon of another version): parsed, not cast.
  const parsed = statusSnapshotSchema.safeParse(res.status)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ExitError(EXIT.FAILED, `status: the daemon's answer is not a status (${issue.path.join('.') || 'answer'}: ${issue.message}); is it another version of ha-agent?`)
  }
  const snap = parsed.data
  ctx.stdout.write(values.json ? JSON.stringify(snap, null, 2) + '\n' : formatStatus(snap, await facts))
  return EXIT.OK
}
