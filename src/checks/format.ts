import type { Verdict } from './types.js'

/** What `ha-agent check` prints: a line per check, then the verdict. The launcher prints the same lines from the daemon's verdict file. */
export function formatVerdict(v: Verdict): string {
  const lines = v.checks.map((c) => `${c.name.padEnd(9)} ${c.status} ${String(Math.round(c.latencyMs)).padStart(4)}ms  ${c.detail}`)
  lines.push(`${v.healthy ? 'healthy' : 'UNHEALTHY'} (${v.source})`)
  return lines.join('\n') + '\n'
}
