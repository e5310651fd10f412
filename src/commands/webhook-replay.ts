// `ha-agent webhook replay [--name NAME] [ID...]`: dead letters back into their
// queue, in their original order, with their webhook-id. A running daemon's
// lane sees them arrive (inotify) and delivers them; without a daemon they go
// out when it starts. Works on state_dir alone, like `webhook dead`.
import type { Command } from '../cli/context.js'
import { parseCommandArgs } from '../cli/args.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { EXIT, ExitError, UsageError } from '../errors/index.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

async function daemonRuns(runtimeDir: string): Promise<boolean> {
  try {
    return (await controlRequest(controlSocketPath(runtimeDir), { op: 'ping' }, 1000)).ok
  } catch {
    return false
  }
}

export const webhookReplay: Command = async (ctx) => {
  const { values, positionals: ids } = parseCommandArgs('webhook replay', ctx.args, { name: { type: 'string' } })
  const { deadLetterWebhooks, deadDir, isEventId, listDeadLetters, replayDeadLetters } = await import('../outbox/index.js')
  const malformed = ids.filter((id) => !isEventId(id))
  if (malformed.length) {
    throw new UsageError(`webhook replay: not an event id: ${malformed.join(', ')} (ids are msg_ and 24 hex digits, as \`ha-agent webhook dead\` lists them)`)
  }
  const config = await ctx.loadRecordingConfig()
  const state = config.state_dir
  const configured = config.webhooks.map((w) => w.name)
  const name = values.name
  if (name !== undefined && !configured.includes(name)) {
    if (!deadLetterWebhooks(state).includes(name)) throw new UsageError(`webhook replay: no webhook named "${name}" (configured: ${configured.join(', ') || 'none'})`)
    const n = listDeadLetters(state, name).length
    throw new ExitError(EXIT.FAILED, `webhook replay: webhook "${name}" is not in the config any more, so nothing would deliver its ${plural(n, 'dead letter')}; they stay in ${deadDir(state, name)}`)
  }

  const letters = listDeadLetters(state, name)
  // What to replay, per webhook.
  const plan = new Map<string, string[]>()
  const add = (webhook: string, id: string) => plan.set(webhook, [...(plan.get(webhook) ?? []), id])
  if (ids.length) {
    const unknown = ids.filter((id) => !letters.some((d) => d.id === id))
    if (unknown.length) {
      throw new ExitError(EXIT.FAILED, `webhook replay: not a dead letter${name !== undefined ? ` of webhook ${name}` : ''}: ${unknown.join(', ')} (nothing replayed; \`ha-agent webhook dead\` lists them)`)
    }
    for (const d of letters) if (ids.includes(d.id)) add(d.webhook, d.id)
    const orphaned = [...plan.keys()].filter((w) => !configured.includes(w))
    if (orphaned.length) {
      throw new ExitError(EXIT.FAILED, `webhook replay: ${orphaned.map((w) => `${w} (${plan.get(w)!.join(', ')})`).join('; ')}: not in the config any more, so nothing would deliver them (nothing replayed)`)
    }
  } else {
    for (const d of letters) add(d.webhook, d.id)
  }
  if (!plan.size) {
    ctx.stdout.write(name !== undefined ? `no dead letters for webhook ${name}\n` : 'no dead letters to replay\n')
    return EXIT.OK
  }

  let total = 0
  for (const [webhook, wanted] of plan) {
    if (!configured.includes(webhook)) {
      ctx.stderr.write(`${webhook}: not in the config any more: its ${plural(wanted.length, 'dead letter')} stay in ${deadDir(state, webhook)}\n`)
      continue
    }
    const done = replayDeadLetters(state, webhook, wanted)
    total += done.length
    const gone = wanted.length - done.length
    ctx.stdout.write(`${webhook}: ${plural(done.length, 'dead letter')} back in the queue${gone > 0 ? ` (${gone} replayed by someone else meanwhile)` : ''}\n`)
  }
  if (total) {
    ctx.stdout.write(
      (await daemonRuns(config.runtime_dir))
        ? 'the daemon delivers them now, oldest first; `ha-agent status` shows what is pending\n'
        : 'no daemon is running: they go out, oldest first, when `ha-agent run` starts\n',
    )
  }
  return EXIT.OK
}
