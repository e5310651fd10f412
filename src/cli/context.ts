import type { AgentConfig } from '../config/index.js'

export interface Output {
  write(chunk: string): unknown
  isTTY?: boolean
}

/** What a command gets from the entry point; tests build their own. */
export interface CommandContext {
  /** arguments after the command word(s) */
  args: string[]
  configPath: string
  env: Record<string, string | undefined>
  stdout: Output
  stderr: Output
  /** loads and validates the config at configPath (throws ConfigError) */
  loadConfig(): Promise<AgentConfig>
}

/** A command returns its exit code or throws (ExitError, UsageError, ConfigError). */
export type Command = (ctx: CommandContext) => Promise<number>
