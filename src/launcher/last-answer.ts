// What `ha-agent check` answers when it could not find out: keepalived moves the
// VIP on what check says, so check moves it only on evidence. When the daemon
// does not answer (stopped, frozen) check probes by itself, in a fresh Node.js
// whose start, under a loaded host, can eat the whole budget (measured on booted
// Debian 13 nodes with three busy loops on two cores: 600-800 ms of start-up,
// then the probes had 1 ms, exit 1 twice, and the VIP moved off a healthy node).
// A probe that had no time is no evidence: check then repeats the last answer
// it had evidence for, the daemon's last published verdict or its own last
// probed one, whichever is newer and not older than LAST_ANSWER_MAX_AGE_MS; with
// neither, it says healthy, which keeps the VIP where it is (HAProxy's death is
// still seen: the track_file is the fast path, and check's HAProxy probe is the
// first and cheapest).
import { join } from 'node:path'
import type { CheckName, Verdict } from '../checks/types.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { readVerdictFile, renderVerdictFile, VERDICT_FILE } from './verdict-file.js'

/** check's own last probed answer, in the verdict file's format (its mtime: when it was probed) */
export const LAST_ANSWER_FILE = 'check-last'
/** older than this, a last answer is history, not evidence */
export const LAST_ANSWER_MAX_AGE_MS = 5 * 60_000

export interface LastAnswer {
  exitCode: 0 | 1
  verdict: Verdict
  /** whose answer it was */
  from: 'daemon' | 'check' | 'none'
  /** how old it is, ms (the daemon's: since its expiry; 0 for none) */
  ageMs: number
}

/** Keeps a verdict check probed by itself, for the next run that cannot. Never throws: a full disk costs the memory, not the answer. */
export function recordAnswer(runtimeDir: string, configPath: string, verdict: Verdict): void {
  try {
    writeFileAtomic(join(runtimeDir, LAST_ANSWER_FILE), renderVerdictFile({ exitCode: verdict.healthy ? 0 : 1, configPath, verdict }), { fsync: false, mode: 0o644 })
  } catch {
    // no memory this time
  }
}

/**
 * An earlier answer, as the answer to `only` (every check when undefined): the
 * same checks, or it answers another question. A subset of a verdict answers
 * as check does for --only: healthy when every one of them passed.
 */
function answerTo(file: NonNullable<ReturnType<typeof readVerdictFile>>, only: readonly CheckName[] | undefined): { exitCode: 0 | 1; verdict: Verdict } | undefined {
  if (!only) return { exitCode: file.exitCode, verdict: file.verdict }
  const checks = file.verdict.checks.filter((c) => only.includes(c.name))
  if (checks.length !== new Set(only).size) return undefined
  const healthy = checks.every((c) => c.status === 'pass')
  return { exitCode: healthy ? 0 : 1, verdict: { ...file.verdict, healthy, checks } }
}

/** The newest answer with evidence for this config and these checks, or "healthy" when there is none. */
export function lastAnswer(runtimeDir: string, configPath: string, only?: readonly CheckName[], now = Date.now()): LastAnswer {
  // The daemon's file carries its expiry as mtime: it was evidence until then.
  const candidates = [
    { from: 'daemon' as const, file: readVerdictFile(join(runtimeDir, VERDICT_FILE)) },
    { from: 'check' as const, file: readVerdictFile(join(runtimeDir, LAST_ANSWER_FILE)) },
  ]
    .filter((c) => c.file && c.file.configPath === configPath && now - c.file.mtimeMs <= LAST_ANSWER_MAX_AGE_MS)
    .sort((a, b) => b.file!.mtimeMs - a.file!.mtimeMs)
  for (const c of candidates) {
    const answer = answerTo(c.file!, only)
    if (answer) return { ...answer, from: c.from, ageMs: Math.max(0, Math.round(now - c.file!.mtimeMs)) }
  }
  return { exitCode: 0, verdict: { healthy: true, checks: [], checkedAt: new Date(now).toISOString(), source: 'local' }, from: 'none', ageMs: 0 }
}

/**
 * How long this process's own start (Node.js, loading the config and the probes)
 * may take before the host counts as starved: about 150-250 ms here when idle,
 * 600-800 ms with three busy loops on two cores.
 */
export const STARVED_START_MS = 400
/** probes given less than this had no real chance */
export const MIN_PROBE_MS = 100

/**
 * Whether a verdict check probed by itself is evidence. A failure well before its
 * deadline (refused, 0/3 UP, an auth error) always is. A failure at its deadline
 * is, unless the probes had no real time or this process started so slowly that
 * the host was starving it: then the deadline says how busy the host is, not
 * whether PgBouncer answers.
 */
export function isEvidence(verdict: Verdict, probe: { givenMs: number; startMs: number }): boolean {
  const timedOut = verdict.checks.some((c) => c.status === 'fail' && c.latencyMs >= probe.givenMs * 0.9)
  if (!timedOut) return true
  return probe.givenMs >= MIN_PROBE_MS && probe.startMs < STARVED_START_MS
}
