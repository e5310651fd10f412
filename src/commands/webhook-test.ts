// `ha-agent webhook test [--name NAME]`: sends agent.test through the real path
// (outbox, signing, delivery) and says per webhook what happened.
import type { Command } from '../cli/context.js'
import { parseCommandArgs, parseMs } from '../cli/args.js'
import { controlRequest, controlSocketPath } from '../control/client.js'
import { EXIT, hasCode, UsageError } from '../errors/index.js'
import type { DeliveryResult } from '../webhooks/index.js'

export const webhookTest: Command = async (ctx) => {
  const { values, positionals } = parseCommandArgs('webhook test', ctx.args, { name: { type: 'string' }, timeout: { type: 'string' } })
  if (positionals.length) throw new UsageError(`webhook test: unexpected argument "${positionals[0]}"`)
  const config = await ctx.loadConfig()
  const timeoutMs = parseMs('webhook test', '--timeout', values.timeout) ?? 10_000
  const names = config.webhooks.map((w) => w.name)
  if (!names.length) throw new UsageError('webhook test: no webhooks configured (webhooks: [])')
  if (values.name && !names.includes(values.name)) throw new UsageError(`webhook test: no webhook named "${values.name}" (configured: ${names.join(', ')})`)

  let deliveries: DeliveryResult[]
  try {
    const res = await controlRequest(controlSocketPath(config.runtime_dir), { op: 'webhook-test', ...(values.name ? { name: values.name } : {}), timeoutMs }, timeoutMs + 2000)
    if (!res.ok || !('deliveries' in res)) throw new Error('error' in res ? res.error : 'unexpected daemon answer')
    deliveries = res.deliveries as DeliveryResult[]
  } catch (err) {
    if (!hasCode(err, 'HA_ERR_UNAVAILABLE')) {
      ctx.stderr.write(`webhook test: ${(err as Error).message}\n`)
      return EXIT.FAILED
    }
    // No daemon: deliver from this process, through the same outbox and dispatcher.
    const { openOutbox } = await import('../outbox/index.js')
    const { startDispatcher } = await import('../webhooks/index.js')
    const { silentLogger } = await import('../log/index.js')
    const only = values.name ? [values.name] : names
    const ev = await openOutbox({ stateDir: config.state_dir, webhooks: config.webhooks }).append({ type: 'agent.test', data: { node: config.node, state: 'test' }, only })
    const dispatcher = startDispatcher({ stateDir: config.state_dir, webhooks: config.webhooks, logger: silentLogger })
    try {
      deliveries = await dispatcher.waitFor(ev.id, timeoutMs)
    } finally {
      await dispatcher.stop()
    }
  }
  for (const d of deliveries) {
    ctx.stdout.write(d.result === 'delivered' ? `${d.webhook}: delivered\n` : `${d.webhook}: ${d.result === 'dead' ? 'failed' : 'not delivered yet'}: ${d.detail ?? 'no answer'}\n`)
  }
  return deliveries.length > 0 && deliveries.every((d) => d.result === 'delivered') ? EXIT.OK : EXIT.FAILED
}
