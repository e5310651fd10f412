// `ha-agent webhook dead [--name NAME] [--json]`: the dead letters, per webhook,
// with why they died. Reads state_dir only: it needs no secret and no daemon
// (the config is read as `notify` reads it: a webhook secret only the daemon's
// environment holds does not stop it).
import type { Command } from '../cli/context.js'
import { parseCommandArgs } from '../cli/args.js'
import { EXIT, UsageError } from '../errors/index.js'
import type { DeadLetter } from '../outbox/index.js'

/** "45s", "12m", "3h", "2d" */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172_800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86_400)}d`
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n'
}

/** The dead letters as people read them: one line each, the last error in full. */
export function formatDeadLetters(letters: readonly DeadLetter[], configured: readonly string[], now = Date.now()): string {
  const rows = [['WEBHOOK', 'ID', 'TYPE', 'AGE', 'DIED', 'ATTEMPTS', 'LAST ERROR']]
  for (const d of letters) {
    const died = d.dead_at ? Date.parse(d.dead_at) : NaN
    rows.push([
      configured.includes(d.webhook) ? d.webhook : `${d.webhook} (not configured)`,
      d.id,
      d.type ?? '-',
      shortAge(now - d.happened_at),
      Number.isFinite(died) ? `${shortAge(now - died)} ago` : '-',
      d.attempts === null ? '-' : String(d.attempts),
      d.reason.replace(/\s+/g, ' '),
    ])
  }
  return table(rows)
}

export const webhookDead: Command = async (ctx) => {
  const { values, positionals } = parseCommandArgs('webhook dead', ctx.args, { name: { type: 'string' }, json: { type: 'boolean' } })
  if (positionals.length) throw new UsageError(`webhook dead: unexpected argument "${positionals[0]}" (ids go to \`webhook replay\`)`)
  const config = await ctx.loadRecordingConfig()
  const { deadLetterWebhooks, listDeadLetters } = await import('../outbox/index.js')
  const configured = config.webhooks.map((w) => w.name)
  const name = values.name
  if (name !== undefined && !configured.includes(name) && !deadLetterWebhooks(config.state_dir).includes(name)) {
    throw new UsageError(`webhook dead: no webhook named "${name}" (configured: ${configured.join(', ') || 'none'})`)
  }
  const letters = listDeadLetters(config.state_dir, name)
  const now = Date.now()
  if (values.json) {
    const out = letters.map((d) => ({
      webhook: d.webhook,
      configured: configured.includes(d.webhook),
      id: d.id,
      type: d.type,
      happened_at: new Date(d.happened_at).toISOString(),
      dead_at: d.dead_at,
      attempts: d.attempts,
      reason: d.reason,
    }))
    ctx.stdout.write(JSON.stringify(out, null, 2) + '\n')
    return EXIT.OK
  }
  if (!letters.length) {
    ctx.stdout.write(name !== undefined ? `no dead letters for webhook ${name}\n` : 'no dead letters\n')
    return EXIT.OK
  }
  ctx.stdout.write(formatDeadLetters(letters, configured, now))
  if (ctx.stdout.isTTY) {
    const per = new Map<string, number>()
    for (const d of letters) per.set(d.webhook, (per.get(d.webhook) ?? 0) + 1)
    ctx.stdout.write(`\n${letters.length} dead letter${letters.length === 1 ? '' : 's'} (${[...per].map(([w, n]) => `${w}: ${n}`).join(', ')}); put them back with: ha-agent webhook replay [--name NAME] [ID...]\n`)
  }
  return EXIT.OK
}
