// The files beside a queue's head, that say how its delivery goes: the retry
// state (queue/<webhook>/.retry: attempts, next attempt, last error; kept across
// restarts so a restart does not restart the backoff) and the replay note
// (queue/<webhook>/<id>.replayed: when `webhook replay` put a dead letter back;
// its max_age counts from then). Written and read only here.
import { readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'
import { REPLAYED_SUFFIX } from './layout.js'

const RETRY_FILE = '.retry'

export interface RetryState {
  id: string
  attempts: number
  /** ms epoch */
  nextAttemptAt: number
  lastError?: string
}

/** A file's JSON, or undefined when there is none or it is not JSON (a torn or foreign file counts as none). */
function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** The head's retry state, if it has failed before. */
export function readRetryState(queueDir: string): RetryState | undefined {
  return readJson(join(queueDir, RETRY_FILE)) as RetryState | undefined
}

/** Best effort: without it a restart only restarts the backoff. */
export function saveRetryState(queueDir: string, state: RetryState): boolean {
  try {
    writeFileAtomic(join(queueDir, RETRY_FILE), JSON.stringify(state), { fsync: false })
    return true
  } catch {
    return false
  }
}

export function clearRetryState(queueDir: string): void {
  try {
    unlinkSync(join(queueDir, RETRY_FILE))
  } catch {
    /* none */
  }
}

export const replayNotePath = (queueDir: string, id: string) => join(queueDir, id + REPLAYED_SUFFIX)

/** Writes the replay note of event `id` (fsynced, mode 0644), before the event goes back in the queue. */
export function writeReplayNote(queueDir: string, id: string, now: number): void {
  writeFileAtomic(replayNotePath(queueDir, id), JSON.stringify({ replayed_at: new Date(now).toISOString() }), { fsync: true, mode: 0o644 })
}

/** When event `id` was replayed (ms epoch), or undefined when it was not. */
export function readReplayNote(queueDir: string, id: string): number | undefined {
  const at = Date.parse((readJson(replayNotePath(queueDir, id)) as { replayed_at?: string } | null | undefined)?.replayed_at ?? '')
  return Number.isFinite(at) ? at : undefined
}

export function removeReplayNote(queueDir: string, id: string): void {
  try {
    unlinkSync(replayNotePath(queueDir, id))
  } catch {
    /* not a replay */
  }
}
