import { stringify } from 'yaml'
import { redactedConfig } from '../config/index.js'
import { EXIT, UsageError } from '../errors/index.js'
import type { Command } from '../cli/context.js'

/** Validates the config; prints it with secrets redacted. ConfigError -> 78 via cli.ts. */
export const configCheck: Command = async (ctx) => {
  if (ctx.args.length) throw new UsageError(`config check takes no arguments (got "${ctx.args.join(' ')}")`)
  const config = await ctx.loadConfig()
  ctx.stdout.write(`# ${config.configPath}: valid\n`)
  ctx.stdout.write(stringify(redactedConfig(config)))
  return EXIT.OK
}
