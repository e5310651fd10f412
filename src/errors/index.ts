// One registry of errors with stable codes, after fastify's lib/errors.js.
// Library code throws these; callers branch on `code` (never on message text);
// only src/cli.ts turns them into an exit code.

export const EXIT = Object.freeze({
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CONFIG: 78,
})

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** Every code this program throws, and what it means. */
export const ERROR_CODES = Object.freeze({
  HA_EXIT: 'a command ends with this exit code',
  HA_ERR_USAGE: 'bad command line (exit 2)',
  HA_ERR_CONFIG: 'configuration invalid or unreadable (exit 78)',
  HA_ERR_STORAGE: 'durable storage failed: full disk, read-only file system, permissions',
  HA_ERR_TIMEOUT: 'no answer within the deadline',
  HA_ERR_UNAVAILABLE: 'nothing listens there (no socket file, connection refused)',
  HA_ERR_SOCKET: 'the connection failed or closed before the answer',
  HA_ERR_PROTOCOL: 'the peer answered something that is not the expected protocol',
  HA_ERR_PART: 'a part of the daemon could not start',
})

export type ErrorCode = keyof typeof ERROR_CODES

export class AgentError extends Error {
  readonly code: ErrorCode
  readonly exitCode: number
  constructor(code: ErrorCode, message: string, exitCode: number = EXIT.FAILED, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AgentError'
    this.code = code
    this.exitCode = exitCode
  }
}

/** True when `err` is one of ours with that code. */
export function hasCode(err: unknown, code: ErrorCode): err is AgentError {
  return err instanceof AgentError && err.code === code
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

/** A socket, a query or a request had no (complete) answer within its deadline. */
export class TimeoutError extends AgentError {
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super('HA_ERR_TIMEOUT', message)
    this.name = 'TimeoutError'
  }
}

/** A socket failed: nobody listens (HA_ERR_UNAVAILABLE), or it broke (HA_ERR_SOCKET), or spoke nonsense (HA_ERR_PROTOCOL). */
export class SocketError extends AgentError {
  constructor(
    code: 'HA_ERR_UNAVAILABLE' | 'HA_ERR_SOCKET' | 'HA_ERR_PROTOCOL',
    message: string,
    /** the errno code (ECONNREFUSED ...) when there was one */
    readonly errno?: string,
  ) {
    super(code, message)
    this.name = 'SocketError'
  }
}

/** A part of the daemon could not start (or reload); names the part. */
export class PartError extends AgentError {
  constructor(
    readonly part: string,
    cause: unknown,
  ) {
    super('HA_ERR_PART', `cannot start ${part}: ${cause instanceof Error ? cause.message : String(cause)}`, EXIT.FAILED, { cause })
    this.name = 'PartError'
  }
}

const ERRNO_TEXT: Record<string, string> = {
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
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  ENAMETOOLONG: 'file name too long',
  ENOTSOCK: 'not a socket',
}

/** Render an errno-style error as "what: why" for operators. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e && typeof e === 'object' && typeof e.code === 'string' && !(e instanceof AgentError)) {
    return `${ERRNO_TEXT[e.code] ?? e.message} (${e.code})`
  }
  return e instanceof Error ? e.message : String(err)
}
