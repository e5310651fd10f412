// Whether a node can take the VIP over: what `ha-agent switchover` asks of its
// target and `ha-agent maintenance on` of the peer that is left to serve, read
// from that node's /status as this node just polled it. --force skips it.
import type { PeerView } from '../cluster/index.js'

export interface ServeVerdict {
  ok: boolean
  /** each thing that is wrong, in words (empty when ok) */
  problems: string[]
}

const nameOf = (p: PeerView) => p.node ?? p.url

export function canServe(p: PeerView): ServeVerdict {
  const problems: string[] = []
  if (!p.reachable) return { ok: false, problems: [`its API does not answer (${p.error ?? 'unreachable'})`] }
  if (p.maintenance?.on) problems.push(`it is in maintenance${p.maintenance.reason ? ` (${p.maintenance.reason})` : ''}`)
  if (p.haproxy_up === false) problems.push('its HAProxy does not answer')
  else if (p.fault && !p.maintenance?.on) problems.push('its track_file says FAULT')
  if (p.keepalived_up === false) problems.push('its keepalived is not running')
  const checks = p.checks ?? []
  if (!checks.length) problems.push('no deep check has run there yet')
  const failing = checks.filter((c) => c.status === 'fail')
  if (failing.length) problems.push(`failing there: ${failing.map((c) => `${c.name} (${c.detail})`).join(', ')}`)
  const instances = p.instances ?? []
  if (!instances.length) problems.push('its keepalived has reported no VRRP instance')
  const down = instances.filter((i) => i.state !== 'BACKUP' && i.state !== 'MASTER')
  if (down.length) problems.push(down.map((i) => `${i.name} is ${i.state} there`).join(', '))
  return { ok: problems.length === 0, problems }
}

/** One line for the operator: "haproxy2 cannot take the VIP: its HAProxy does not answer; ..." */
export function refusal(p: PeerView, v: ServeVerdict, what = 'take the VIP'): string {
  return `${nameOf(p)} cannot ${what}: ${v.problems.join('; ')}`
}

/** Every instance this node knows is MASTER (none known is no). */
export function holdsAll(instances: ReadonlyArray<{ state: string }> | undefined): boolean {
  return !!instances?.length && instances.every((i) => i.state === 'MASTER')
}
