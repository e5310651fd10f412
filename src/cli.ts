// The entry point: argv -> one lazily imported command. Only this file decides
// the exit code, so `ha-agent check` pays for nothing but the check path.
import { AgentError, ConfigError, EXIT, UsageError } from './errors/index.js'
import type { Command, CommandContext } from './cli/context.js'
import { resolveConfigPath } from './config/peek.js'

import { VERSION } from './version/index.js'

export { VERSION }

async function loadCommand(words: string[]): Promise<{ command: Command; used: number } | undefined> {
  switch (words[0]) {
    case 'run':
      return { command: (await import('./commands/run.js')).run, used: 1 }
    case 'check':
      return { command: (await import('./commands/check.js')).check, used: 1 }
    case 'notify':
      return { command: (await import('./commands/notify.js')).notify, used: 1 }
    case 'status':
      return { command: (await import('./commands/status.js')).status, used: 1 }
    case 'doctor':
      return { command: (await import('./commands/doctor.js')).doctor, used: 1 }
    case 'switchover':
      return { command: (await import('./commands/switchover.js')).switchover, used: 1 }
    case 'maintenance':
      return { command: (await import('./commands/maintenance.js')).maintenance, used: 1 }
    case 'config':
      if (words[1] === 'check') return { command: (await import('./commands/config-check.js')).configCheck, used: 2 }
      throw new UsageError(`unknown command "config ${words[1] ?? ''}" (did you mean "config check"?)`)
    case 'webhook':
      if (words[1] === 'test') return { command: (await import('./commands/webhook-test.js')).webhookTest, used: 2 }
      if (words[1] === 'dead') return { command: (await import('./commands/webhook-dead.js')).webhookDead, used: 2 }
      if (words[1] === 'replay') return { command: (await import('./commands/webhook-replay.js')).webhookReplay, used: 2 }
      throw new UsageError(`unknown command "webhook ${words[1] ?? ''}" (webhook test, webhook dead or webhook replay)`)
    default:
      return undefined
  }
}

export interface MainOptions {
  env?: Record<string, string | undefined>
  stdout?: CommandContext['stdout']
  stderr?: CommandContext['stderr']
}

/** Runs the CLI and returns the exit code; never calls process.exit. */
export async function main(argv: string[], opts: MainOptions = {}): Promise<number> {
  const env = opts.env ?? process.env
  const stdout = opts.stdout ?? process.stdout
  const stderr = opts.stderr ?? process.stderr
  try {
    // Global options may stand before the command; command options after it.
    const rest: string[] = []
    let configFlag: string | undefined
    let help = false
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!
      if (a === '--config') {
        configFlag = argv[++i]
        if (!configFlag) throw new UsageError('--config needs a PATH')
      } else if (a.startsWith('--config=')) configFlag = a.slice('--config='.length)
      else if (a === '--help' || a === '-h') help = true
      else if (a === '--version' || a === '-V') {
        stdout.write(`${VERSION}\n`)
        return EXIT.OK
      } else rest.push(a)
    }
    if (help || rest.length === 0) {
      const { renderHelp } = await import('./cli/usage.js')
      ;(help ? stdout : stderr).write(renderHelp(VERSION))
      return help ? EXIT.OK : EXIT.USAGE
    }
    const found = await loadCommand(rest)
    if (!found) throw new UsageError(`unknown command "${rest[0]}" (see ha-agent --help)`)
    const configPath = resolveConfigPath(configFlag, env)
    const ctx: CommandContext = {
      args: rest.slice(found.used),
      configPath,
      env,
      stdout,
      stderr,
      // yaml and zod load only when a command asks for its config.
      loadConfig: async (opts) => (await import('./config/load.js')).loadConfig(configPath, { env, ...opts }),
      loadRecordingConfig: async () => (await import('./config/recording.js')).loadRecordingConfig(configPath),
    }
    return await found.command(ctx)
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line per problem, starting with the key path (contract section 1).
      for (const p of err.problems) stderr.write(`${p.path}: ${p.message}\n`)
      return err.exitCode
    }
    if (err instanceof AgentError) {
      if (err.message) stderr.write(`ha-agent: ${err.message.split('\n').join('\nha-agent: ')}\n`)
      return err.exitCode
    }
    stderr.write(`ha-agent: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`)
    return EXIT.FAILED
  }
}

