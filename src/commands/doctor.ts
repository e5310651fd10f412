// `ha-agent doctor`: reads the live host and prints each finding with its fix.
// Exit 0: nothing found; 1: a warning; 2: an error (issue 23). A usage error
// exits 2 too, told apart by what it prints: the usage on stderr, no finding.
import type { Command } from '../cli/context.js'
import { parseCommandArgs } from '../cli/args.js'
import { UsageError } from '../errors/index.js'
import { DEFAULT_HAPROXY_CFG, DEFAULT_KEEPALIVED_CONF, exitCodeFor, formatFindings, runDoctor, summarize } from '../doctor/index.js'

export const DOCTOR_USAGE = 'usage: ha-agent [--config PATH] doctor [--keepalived-conf PATH] [--haproxy-cfg PATH] [--json] [--skip-webhooks]'

export const doctor: Command = async (ctx) => {
  let parsed
  try {
    parsed = parseCommandArgs('doctor', ctx.args, {
      'keepalived-conf': { type: 'string' },
      'haproxy-cfg': { type: 'string' },
      json: { type: 'boolean' },
      'skip-webhooks': { type: 'boolean' },
    })
    if (parsed.positionals.length) throw new UsageError(`doctor: unexpected argument "${parsed.positionals[0]}"`)
  } catch (err) {
    throw err instanceof UsageError ? new UsageError(`${err.message}\n${DOCTOR_USAGE}`) : err
  }
  const { values } = parsed
  // An invalid agent config is what `config check` reports: exit 78, one line per problem.
  const config = await ctx.loadConfig()
  const findings = await runDoctor({
    config,
    configPath: ctx.configPath,
    keepalivedConf: values['keepalived-conf'] ?? DEFAULT_KEEPALIVED_CONF,
    haproxyCfg: values['haproxy-cfg'] ?? DEFAULT_HAPROXY_CFG,
    skipWebhooks: values['skip-webhooks'] ?? false,
  })
  const code = exitCodeFor(findings)
  ctx.stdout.write(values.json ? JSON.stringify({ findings, summary: { ...summarize(findings), exit_code: code } }, null, 2) + '\n' : formatFindings(findings))
  return code
}
