// One registry of errors with stable codes, after fastify's lib/errors.js.
// Library code throws these; only src/cli.ts turns them into an exit code.

export const EXIT = Object.freeze({
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CONFIG: 78,
})

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export class AgentError extends Error {
  readonly code: string
  readonly exitCode: number
  constructor(code: string, message: string, exitCode: number = EXIT.FAILED, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AgentError'
    this.code = code
    this.exitCode = exitCode
  }
}

/** Ends a command with an exit code; the message (if any) goes to stderr. */
export class ExitError extends AgentError {
  constructor(exitCode: number, message = '') {
    super('HA_EXIT', message, exitCode)
    this.name = 'ExitError'
  }
}

export class UsageError extends AgentError {
  constructor(message: string) {
    super('HA_ERR_USAGE', message, EXIT.USAGE)
    this.name = 'UsageError'
  }
}

export interface ConfigProblem {
  /** key path as an operator writes it, e.g. `webhooks[0].url`; `config` for the file itself */
  path: string
  message: string
}

export class ConfigError extends AgentError {
  readonly problems: readonly ConfigProblem[]
  constructor(problems: ConfigProblem[], source?: string) {
    const lines = problems.map((p) => `${p.path}: ${p.message}`)
    super('HA_ERR_CONFIG', (source ? `${source}: ` : '') + lines.join('\n'), EXIT.CONFIG)
    this.name = 'ConfigError'
    this.problems = Object.freeze(problems.slice())
  }
}

/** Durable storage failed (full disk, read-only fs, permissions). Nothing was recorded. */
export class StorageError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HA_ERR_STORAGE', message, EXIT.FAILED, options)
    this.name = 'StorageError'
  }
}

/** Render an errno-style error as "what: why" for operators. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    const why: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      ENOSPC: 'no space left on device',
      EDQUOT: 'disk quota exceeded',
      EROFS: 'read-only file system',
      ECONNREFUSED: 'connection refused',
      ECONNRESET: 'connection reset by peer',
      ETIMEDOUT: 'timed out',
      EISDIR: 'is a directory',
      ENOTDIR: 'not a directory',
      EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable',
    }
    return `${why[e.code] ?? e.message} (${e.code})`
  }
  return e instanceof Error ? e.message : String(err)
}
