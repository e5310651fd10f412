// The checks between keys, and against the host, that the schema's per-key
// rules cannot make: a hook program others can rewrite, an API reachable from
// other hosts with no token guarding it, a token beside allow_unauthenticated.
// (Duplicate webhook names and pagerduty's routing key are checked in
// buildConfig's loop over the webhooks, so that problems keep their order.)
import { statSync } from 'node:fs'
import { isIPv6 } from 'node:net'
import type { ConfigProblem } from '../errors/index.js'
import { splitHostPort } from './host-port.js'
import type { ParsedConfig } from './schema.js'

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: what only this host reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/^::ffff:(?=\d)/, '')
  if (h === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true
  if (!isIPv6(h)) return false
  // every spelling of ::1 (0:0:0:0:0:0:0:1 ...) is written ::1 once parsed
  return new URL(`http://[${h}]/`).hostname === '[::1]'
}

/**
 * A hook program anyone can rewrite runs their code as the daemon's user: refused,
 * as a world-readable secret is. A program not installed yet is fine (the hook
 * is retried until it is, within max_age).
 */
export function commandProblem(program: string): string | undefined {
  let mode: number
  try {
    mode = statSync(program).mode
  } catch {
    return undefined
  }
  if (mode & 0o002) return `${program} is writable by every user (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}): chmod o-w ${program}`
  return undefined
}

/** An API others can reach answers only those holding a token, unless the operator says otherwise. */
export function apiAccessProblems(api: ParsedConfig['api'], hasToken: boolean): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  if (api.listen && !hasToken && !api.allow_unauthenticated && !isLoopbackHost(splitHostPort(api.listen).host)) {
    problems.push({
      path: 'api.listen',
      message:
        `${api.listen} is reachable from other hosts and no token guards the API: set cluster.token_file (or api.token_file), ` +
        'listen on 127.0.0.1, or set api.allow_unauthenticated: true',
    })
  }
  if (api.allow_unauthenticated && hasToken) {
    problems.push({ path: 'api.allow_unauthenticated', message: 'a token is configured, so the API is not unauthenticated: remove this key' })
  }
  return problems
}
