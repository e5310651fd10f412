import type { AgentConfig } from '../config/index.js'
import type { RecordingConfig } from '../config/recording.js'

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
  /** loads and validates the config at configPath (throws ConfigError); `check` asks for its purpose only */
  loadConfig(opts?: { purpose?: 'full' | 'check' }): Promise<AgentConfig>
  /** just what recording a transition needs (notify without a daemon): no secrets, lenient elsewhere */
  loadRecordingConfig(): Promise<RecordingConfig>
}

/** A command returns its exit code or throws (ExitError, UsageError, ConfigError). */
export type Command = (ctx: CommandContext) => Promise<number>
