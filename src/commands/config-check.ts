import { stringify } from 'yaml'
import { redactedConfig } from '../config/index.js'
import { EXIT, UsageError } from '../errors/index.js'
import type { Command } from '../cli/context.js'
import { parseCommandArgs } from '../cli/args.js'

/**
 * Validates the config; prints it with secrets redacted, or nothing with
 * --quiet (systemd's ExecReload runs it before signalling the daemon).
 * ConfigError -> 78 via cli.ts.
 */
export const configCheck: Command = async (ctx) => {
  const { values, positionals } = parseCommandArgs('config check', ctx.args, { quiet: { type: 'boolean', short: 'q' } })
  if (positionals.length) throw new UsageError(`config check takes no arguments (got "${positionals.join(' ')}")`)
  const config = await ctx.loadConfig()
  if (values.quiet) return EXIT.OK
  ctx.stdout.write(`# ${config.configPath}: valid\n`)
  ctx.stdout.write(stringify(redactedConfig(config)))
  return EXIT.OK
}
