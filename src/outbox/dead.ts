// Dead letters as operators handle them: `ha-agent webhook dead` lists them,
// `ha-agent webhook replay` puts them back in their queue. A dead letter is the
// event's original file, renamed, so replaying it keeps its bytes, its owner and
// its webhook-id; a replayed event sorts by its id, so it goes out in its
// original order, before anything queued after it.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describeSystemError, StorageError } from '../errors/index.js'
import { createFile, fsyncDir } from '../fs/atomic.js'
import { eventIdTime } from './ids.js'
import { replayNotePath, writeReplayNote } from './head-files.js'
import { deadDir, deadRoot, queueDir, queueRoot, webhookOfDir } from './layout.js'
import type { DeadLetterMeta } from './queue.js'

export interface DeadLetter {
  webhook: string
  id: string
  /** the event type, when the record could be read */
  type: string | null
  /** when the event happened (from its id), ms epoch */
  happened_at: number
  dead_at: string | null
  reason: string
  attempts: number | null
}

function readMeta(dir: string, id: string): Partial<DeadLetterMeta> {
  try {
    return JSON.parse(readFileSync(join(dir, `${id}.meta`), 'utf8')) as DeadLetterMeta
  } catch {
    return {}
  }
}

function typeOf(path: string): string | null {
  try {
    const rec = JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown; event?: { type?: unknown } }
    // 0.1.0 wrote {webhook, reason, dead_at, event}: read those too.
    const t = rec.event?.type ?? rec.type
    return typeof t === 'string' ? t : null
  } catch {
    return null
  }
}

function readDir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    // "no dead letters" would be a lie when we cannot look (run as a user who cannot read state_dir).
    throw new StorageError(`cannot read the dead letters in ${dir}: ${describeSystemError(err)}`, { cause: err })
  }
}

/** The webhooks that have a dead-letter directory (configured or not any more). */
export function deadLetterWebhooks(stateDir: string): string[] {
  return readDir(deadRoot(stateDir))
    .filter((d) => {
      try {
        return statSync(join(deadRoot(stateDir), d)).isDirectory()
      } catch {
        return false
      }
    })
    .map(webhookOfDir)
    .sort()
}

/** Every dead letter (of one webhook, or all), oldest event first. Throws StorageError when it cannot look. */
export function listDeadLetters(stateDir: string, webhook?: string): DeadLetter[] {
  const webhooks = webhook !== undefined ? [webhook] : deadLetterWebhooks(stateDir)
  const out: DeadLetter[] = []
  for (const name of webhooks) {
    const dir = deadDir(stateDir, name)
    for (const file of readDir(dir)) {
      if (!file.endsWith('.json')) continue
      const id = file.slice(0, -'.json'.length)
      const meta = readMeta(dir, id)
      let legacy: { reason?: string; dead_at?: string } = {}
      if (meta.reason === undefined) {
        try {
          legacy = JSON.parse(readFileSync(join(dir, file), 'utf8')) as typeof legacy
        } catch {
          /* not JSON: an unreadable record kept as it was */
        }
      }
      let happened = eventIdTime(id)
      if (!Number.isFinite(happened)) {
        try {
          happened = statSync(join(dir, file)).mtimeMs
        } catch {
          continue // replayed (or pruned) while we looked
        }
      }
      out.push({
        webhook: name,
        id,
        type: meta.type ?? typeOf(join(dir, file)),
        happened_at: happened,
        dead_at: meta.dead_at ?? legacy.dead_at ?? null,
        reason: meta.reason ?? legacy.reason ?? 'unknown',
        attempts: meta.attempts ?? null,
      })
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.webhook.localeCompare(b.webhook)))
}

/**
 * Files made by a replay belong to whoever owns the queue (the daemon's user),
 * also when root replays: the daemon must read them, and it removes them.
 */
function giveToQueueOwner(path: string, queue: string): void {
  if (process.getuid?.() !== 0) return
  try {
    const { uid, gid } = statSync(queue)
    chownSync(path, uid, gid)
  } catch {
    /* best effort: the file is readable by everyone anyway */
  }
}

/**
 * Puts dead letters back in their queue (all of the webhook's, or those `ids`),
 * each with a note of when (its max_age starts again from the replay; it died
 * of old age otherwise). Returns the ids replayed, oldest first; an id that is
 * not (or no longer) a dead letter is skipped. A legacy (0.1.0) dead letter is
 * unwrapped to its event. Throws StorageError when a file cannot be moved.
 */
export function replayDeadLetters(stateDir: string, webhook: string, ids?: readonly string[], now = Date.now()): string[] {
  const from = deadDir(stateDir, webhook)
  const to = queueDir(stateDir, webhook)
  const wanted = [...(ids ?? listDeadLetters(stateDir, webhook).map((d) => d.id))].sort()
  const done: string[] = []
  if (!existsSync(to)) {
    try {
      mkdirSync(to, { recursive: true, mode: 0o750 })
      giveToQueueOwner(to, queueRoot(stateDir))
    } catch (err) {
      throw new StorageError(`cannot create the queue ${to}: ${describeSystemError(err)}`, { cause: err })
    }
  }
  for (const id of wanted) {
    const src = join(from, `${id}.json`)
    if (!existsSync(src)) continue
    const note = replayNotePath(to, id)
    try {
      // The note first: the deliverer never sees the event without it.
      writeReplayNote(to, id, now)
      giveToQueueOwner(note, to)
      const text = readFileSync(src, 'utf8')
      let legacyEvent: unknown
      try {
        const rec = JSON.parse(text) as { event?: unknown; reason?: unknown }
        if (rec.event && rec.reason !== undefined) legacyEvent = rec.event
      } catch {
        /* replay as it is: the deliverer dead-letters it again, with the reason */
      }
      if (legacyEvent) {
        const tmp = `${src}.replay.tmp`
        createFile(tmp, JSON.stringify(legacyEvent), { fsync: true })
        const { uid, gid } = statSync(src)
        if (process.getuid?.() === 0) chownSync(tmp, uid, gid)
        renameSync(tmp, join(to, `${id}.json`))
        unlinkSync(src)
      } else {
        try {
          renameSync(src, join(to, `${id}.json`))
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
          // replayed by someone else a moment ago
          continue
        }
      }
      try {
        unlinkSync(join(from, `${id}.meta`))
      } catch {
        /* legacy: no meta */
      }
      done.push(id)
    } catch (err) {
      try {
        if (!existsSync(join(to, `${id}.json`))) unlinkSync(note)
      } catch {
        /* best effort */
      }
      throw new StorageError(`cannot replay ${id} of webhook ${webhook} into ${to}: ${describeSystemError(err)}`, { cause: err })
    }
  }
  if (done.length) fsyncDir(to)
  return done
}
