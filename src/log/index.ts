import { fstatSync } from 'node:fs'
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { redactUrl } from '../redact/index.js'

export type { Logger }

// Paths pino must never print whole, whatever object a caller logs. Secrets are
// replaced; URLs (webhook, peer) are cut to scheme://host:port/… (their path and
// query may hold a token), the same way everything else prints them.
const SECRET_KEYS = ['secret', 'password', 'token', 'authorization', 'routingKey', 'adminPassword']
const URL_KEYS = ['url', 'peer', 'webhook_url']
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  'headers.authorization',
  'headers["webhook-signature"]',
  '*.headers.authorization',
  '*.headers["webhook-signature"]',
  ...URL_KEYS,
  ...URL_KEYS.map((k) => `*.${k}`),
]

/** What a redacted path is replaced with: a URL is shown as redactUrl() shows it, anything else is gone. */
export function censor(value: unknown, path: string[]): unknown {
  if (URL_KEYS.includes(path[path.length - 1] ?? '')) {
    if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value
    if (value === null || value === undefined || typeof value !== 'object') return value
  }
  return '[redacted]'
}

export interface LoggerOptions {
  level?: LevelWithSilent
  node?: string
  /** where JSON lines go; stdout (journald) by default */
  destination?: NodeJS.WritableStream | { write(s: string): unknown }
  /**
   * Start each line with its syslog priority, `<3>{"level":"error",...}`, which
   * systemd-journald reads from a service's stdout (SyslogLevelPrefix=, on by
   * default) and strips, so `journalctl -p warning` works. Set it when stdout is
   * the journal: systemd then sets JOURNAL_STREAM.
   */
  syslogPrefix?: boolean
  /** clock for the `time` field (tests) */
  now?: () => number
}

/** pino level number -> syslog priority (sd-daemon.h: SD_CRIT 2 ... SD_DEBUG 7). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2 // fatal: crit
  if (level >= 50) return 3 // error: err
  if (level >= 40) return 4 // warn: warning
  if (level >= 30) return 6 // info: info (5, notice, is left unused as pino has no such level)
  return 7 // debug, trace: debug
}

type Destination = { write(s: string): unknown; flush?(cb?: (err?: Error) => void): void; flushSync?(): void }

/**
 * A destination that puts `<N>` in front of each line. pino tells it the level of
 * the line it is about to write (the documented `Symbol.for('pino.metadata')`
 * flag), so nothing is parsed again and no stream is duplicated; pino.multistream
 * with dedupe would need one prefixing stream per level around the same fd for the
 * same result, and walks its list on every line.
 */
export function syslogPrefixed(dest: Destination): Destination & { lastLevel: number } {
  return {
    [Symbol.for('pino.metadata')]: true,
    lastLevel: 30,
    write(line: string) {
      return dest.write(`<${syslogPriority(this.lastLevel)}>${line}`)
    },
    flush(cb?: (err?: Error) => void) {
      if (dest.flush) dest.flush(cb)
      else cb?.()
    },
    flushSync() {
      dest.flushSync?.()
    },
  } as Destination & { lastLevel: number }
}

/**
 * Whether `fd` (stdout) is the journal stream systemd names in JOURNAL_STREAM
 * ("DEVICE:INODE"). systemd sets the variable when stdout *or* stderr is the
 * journal; comparing device and inode tells which, as systemd.exec(5) advises,
 * so a `>file` redirection under a unit never gets the prefix. The caller passes
 * the variable's value (modules do not read process.env).
 */
export function isJournalStream(journalStream: string | undefined, fd = 1): boolean {
  const m = /^(\d+):(\d+)$/.exec(journalStream ?? '')
  if (!m) return false
  try {
    const st = fstatSync(fd, { bigint: true })
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!)
  } catch {
    return false
  }
}

/** JSON to stdout, no transports (no worker threads in the daemon). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const base = opts.node ? { node: opts.node } : {}
  const now = opts.now
  const options = {
    level: opts.level ?? 'info',
    base,
    redact: { paths: REDACT_PATHS, censor },
    timestamp: now ? () => `,"time":"${new Date(now()).toISOString()}"` : pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  }
  let dest: Destination = (opts.destination as Destination | undefined) ?? pino.destination({ fd: 1, sync: true })
  if (opts.syslogPrefix) dest = syslogPrefixed(dest)
  return pino(options, dest as pino.DestinationStream)
}

export const silentLogger: Logger = pino({ level: 'silent' })
