import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../errors/index.js'

type Options = NonNullable<ParseArgsConfig['options']>

/** node:util parseArgs, with its errors turned into UsageError (exit 2). */
export function parseCommandArgs<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.split('\n')[0]}`)
  }
}

export function parseMs(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${command}: ${flag} needs a positive number of milliseconds (got "${value}")`)
  return n
}

/** A positive number of seconds (fractions allowed), at most `max`, as ms. */
export function parseSeconds(command: string, flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0 || n > max || value.trim() === '') throw new UsageError(`${command}: ${flag} needs a number of seconds, more than 0 and at most ${max} (got "${value}")`)
  return Math.round(n * 1000)
}
