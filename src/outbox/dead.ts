// Dead letters as operators handle them: `ha-agent webhook dead` lists them,
// `ha-agent webhook replay` puts them back in their queue. A dead letter is the
// event's original file, renamed, so replaying it keeps its bytes, its owner and
// its webhook-id; a replayed event sorts by its id, so it goes out in its
// original order, before anything queued after it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describeSystemError, StorageError } from '../errors/index.js'
import { createFile, fsyncDir } from '../fs/atomic.js'
import { eventIdTime } from './ids.js'
import { deadDir, deadRoot, queueDir, webhookOfDir } from './layout.js'
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

/** Every dead letter (of one webhook, or all), oldest event first. */
export function listDeadLetters(stateDir: string, webhook?: string): DeadLetter[] {
  let dirs: string[]
  try {
    dirs = webhook ? [deadDir(stateDir, webhook)] : readdirSync(deadRoot(stateDir)).map((d) => join(deadRoot(stateDir), d))
  } catch {
    return []
  }
  const out: DeadLetter[] = []
  for (const dir of dirs) {
    let names: string[]
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json'))
    } catch {
      continue
    }
    const name = webhook ?? webhookOfDir(dir.slice(dir.lastIndexOf('/') + 1))
    for (const file of names) {
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
      const happened = eventIdTime(id)
      out.push({
        webhook: name,
        id,
        type: meta.type ?? typeOf(join(dir, file)),
        happened_at: Number.isFinite(happened) ? happened : statSync(join(dir, file)).mtimeMs,
        dead_at: meta.dead_at ?? legacy.dead_at ?? null,
        reason: meta.reason ?? legacy.reason ?? 'unknown',
        attempts: meta.attempts ?? null,
      })
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.webhook.localeCompare(b.webhook)))
}

/**
 * Puts dead letters back in their queue (all of the webhook's, or those `ids`).
 * Returns what was replayed. A legacy (0.1.0) dead letter is unwrapped to its event.
 */
export function replayDeadLetters(stateDir: string, webhook: string, ids?: readonly string[]): string[] {
  const from = deadDir(stateDir, webhook)
  const to = queueDir(stateDir, webhook)
  const wanted = ids ?? listDeadLetters(stateDir, webhook).map((d) => d.id)
  const done: string[] = []
  mkdirSync(to, { recursive: true, mode: 0o750 })
  for (const id of wanted) {
    const src = join(from, `${id}.json`)
    if (!existsSync(src)) continue
    try {
      const text = readFileSync(src, 'utf8')
      let legacyEvent: unknown
      try {
        const rec = JSON.parse(text) as { event?: unknown; reason?: unknown }
        if (rec.event && rec.reason !== undefined) legacyEvent = rec.event
      } catch {
        /* replay as it is: the deliverer dead-letters it again, with the reason */
      }
      if (legacyEvent) {
        // Legacy files were written by the daemon, so rewriting keeps a readable owner.
        const tmp = `${src}.replay.tmp`
        createFile(tmp, JSON.stringify(legacyEvent), { fsync: true })
        renameSync(tmp, join(to, `${id}.json`))
        unlinkSync(src)
      } else {
        renameSync(src, join(to, `${id}.json`))
      }
      try {
        unlinkSync(join(from, `${id}.meta`))
      } catch {
        /* legacy: no meta */
      }
      done.push(id)
    } catch (err) {
      throw new StorageError(`cannot replay ${id} of webhook ${webhook} into ${to}: ${describeSystemError(err)}`, { cause: err })
    }
  }
  if (done.length) fsyncDir(to)
  return done
}

