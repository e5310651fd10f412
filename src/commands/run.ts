// `ha-agent run`: the daemon under systemd. SIGTERM/SIGINT stop it cleanly;
// SIGHUP reloads the config (the running one stays when the new one is broken
// or cannot run). A part that cannot start stops the others and the process
// exits 1 with one line naming it; an invalid config exits 78 (not restarted).
import type { Command } from '../cli/context.js'
import { parseCommandArgs } from '../cli/args.js'
import { ConfigError, EXIT, UsageError } from '../errors/index.js'
import { createLogger, isJournalStream } from '../log/index.js'
import { startDaemon } from '../daemon/index.js'

export const run: Command = async (ctx) => {
  const { positionals } = parseCommandArgs('run', ctx.args, {})
  if (positionals.length) throw new UsageError(`run: unexpected argument "${positionals[0]}"`)
  const config = await ctx.loadConfig()
  // journald reads each line's priority from a <N> prefix (journalctl -p warning), when stdout is the journal.
  const journal = isJournalStream(ctx.env.JOURNAL_STREAM)
  const logger = createLogger({ level: config.log_level, node: config.node, syslogPrefix: journal })
  const daemon = await startDaemon({ config, logger, env: ctx.env, journal })
  let reloading = Promise.resolve()
  const onHup = () => {
    reloading = reloading.then(async () => {
      logger.info({ config: ctx.configPath }, 'SIGHUP: reloading the configuration')
      let next
      try {
        next = await ctx.loadConfig()
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        for (const p of err.problems) logger.error({ key: p.path, problem: p.message, config: ctx.configPath }, `config reload rejected: ${p.path}: ${p.message}`)
        next = err
      }
      await daemon.reload(next)
    }).catch((err) => logger.error({ err }, 'reload failed'))
  }
  process.on('SIGHUP', onHup)
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  process.off('SIGHUP', onHup)
  logger.info({ signal }, 'stopping')
  await reloading
  await daemon.stop()
  return EXIT.OK
}
