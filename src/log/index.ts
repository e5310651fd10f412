import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

// Paths pino must never print, whatever object a caller logs.
export const REDACT_PATHS = [
  'secret',
  'password',
  'token',
  '*.secret',
  '*.password',
  '*.token',
  'headers.authorization',
  'headers["webhook-signature"]',
  '*.headers.authorization',
]

export interface LoggerOptions {
  level?: LevelWithSilent
  node?: string
  /** where JSON lines go; stdout (journald) by default */
  destination?: NodeJS.WritableStream | { write(s: string): unknown }
}

/** JSON to stdout, no transports (no worker threads in the daemon). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const base = opts.node ? { node: opts.node } : {}
  const options = {
    level: opts.level ?? 'info',
    base,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  }
  if (opts.destination) return pino(options, opts.destination as pino.DestinationStream)
  return pino(options, pino.destination({ fd: 1, sync: true }))
}

export const silentLogger: Logger = pino({ level: 'silent' })
