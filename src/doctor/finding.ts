// What `ha-agent doctor` reports: one finding per thing it looked at, as data
// (after gatus' result.go, as the checks' results are): an error, a warning or
// an ok, where it is (a file and line, a socket, a webhook), what is wrong and
// what to do about it. Printing and the exit code are decided from the list.

export type Severity = 'error' | 'warning' | 'ok'

export interface Finding {
  severity: Severity
  /** the family and the check: `keepalived.track_file`, `haproxy.socket`, `daemon.peers` ... */
  check: string
  /** `/etc/keepalived/keepalived.conf:42`, `webhook ops (https://hooks.example.org:443/…)`, `daemon` */
  where: string
  /** what is wrong; for an ok, what was found right */
  problem: string
  /** what to do; empty for an ok */
  fix: string
}

export const error = (check: string, where: string, problem: string, fix: string): Finding => ({ severity: 'error', check, where, problem, fix })
export const warning = (check: string, where: string, problem: string, fix: string): Finding => ({ severity: 'warning', check, where, problem, fix })
export const ok = (check: string, where: string, what: string): Finding => ({ severity: 'ok', check, where, problem: what, fix: '' })

/** `where` for a line of a config file. */
export const at = (node: { file: string; line: number }): string => `${node.file}:${node.line}`

/**
 * doctor's exit codes, as issue 23 asks: 0 nothing found, 1 a warning, 2 an
 * error. A usage error also exits 2 (the contract's code for every command),
 * and is told apart by its output: the usage on stderr, no finding on stdout.
 */
export const DOCTOR_EXIT = Object.freeze({ CLEAN: 0, WARNING: 1, ERROR: 2 })

export interface Summary {
  errors: number
  warnings: number
  ok: number
}

export function summarize(findings: readonly Finding[]): Summary {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    ok: findings.filter((f) => f.severity === 'ok').length,
  }
}

export function exitCodeFor(findings: readonly Finding[]): number {
  const s = summarize(findings)
  return s.errors ? DOCTOR_EXIT.ERROR : s.warnings ? DOCTOR_EXIT.WARNING : DOCTOR_EXIT.CLEAN
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** One line per finding (`error    where: problem — fix: what to do`), then the summary. */
export function formatFindings(findings: readonly Finding[]): string {
  const lines = findings.map((f) => `${f.severity.padEnd(8)} ${f.where}: ${f.problem}${f.fix ? ` — fix: ${f.fix}` : ''}`)
  const s = summarize(findings)
  const verdict = s.errors ? 'errors found' : s.warnings ? 'warnings found' : 'no problem found'
  lines.push(`doctor: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.ok} ok: ${verdict}`)
  return lines.join('\n') + '\n'
}
