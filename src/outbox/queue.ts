// One webhook's queue as its deliverer sees it: the head, ack, dead-letter, the
// head's retry state and the counts. The files are this folder's business
// (layout.ts; the files beside the head: head-files.ts); the dispatcher only
// delivers.
import { mkdirSync, readFileSync, renameSync, unlinkSync, watch, existsSync, type FSWatcher } from 'node:fs'
import { join } from 'node:path'
import { describeSystemError, StorageError } from '../errors/index.js'
import type { AgentEvent } from '../events/index.js'
import { fsyncDir, writeFileAtomic } from '../fs/atomic.js'
import { clearRetryState, readReplayNote, readRetryState, removeReplayNote, saveRetryState, type RetryState } from './head-files.js'
import { deadDir, EVENT_FILE, queueDir } from './layout.js'
import { countEvents, oldestEvents } from './reader.js'
import { parseEventRecord } from './record.js'

/** how many of the oldest queued names a queue holds in memory (flat, whatever the backlog) */
const WINDOW = 256

/** The oldest pending record: an event, or a file that is not one (dead-lettered as it is). */
export type Head =
  | {
      id: string
      name: string
      event: AgentEvent
      invalid?: undefined
      /** ms epoch an operator put it back from the dead letters (`webhook replay`): its max_age counts from then */
      replayedAt?: number
    }
  | { id: string; name: string; invalid: string; event?: undefined; replayedAt?: undefined }

/** What a dead letter's .meta file holds. */
export interface DeadLetterMeta {
  webhook: string
  reason: string
  dead_at: string
  attempts: number
  type?: string
}

export class WebhookQueue {
  readonly dir: string
  readonly deadDir: string
  private window: string[] = []
  private pos = 0
  private total = 0
  /** something may have been queued that the window does not show */
  private dirty = true

  constructor(
    stateDir: string,
    readonly webhook: string,
  ) {
    this.dir = queueDir(stateDir, webhook)
    this.deadDir = deadDir(stateDir, webhook)
    mkdirSync(this.dir, { recursive: true, mode: 0o750 })
  }

  /** New events may be on disk: the next head() reads the directory again. */
  changed(): void {
    this.dirty = true
  }

  private readWindow(): void {
    // Synchronous: an event linked in after this read fires the watcher
    // afterwards and sets dirty again, so nothing falls between the two.
    this.dirty = false
    try {
      const w = oldestEvents(this.dir, WINDOW)
      this.window = w.names
      this.total = w.total
    } catch (err) {
      this.window = []
      this.total = 0
      this.dirty = true
      throw new StorageError(`cannot read the queue ${this.dir}: ${describeSystemError(err)}`, { cause: err })
    }
    this.pos = 0
  }

  /** The oldest pending record, or undefined when the queue is empty. Throws StorageError when unreadable. */
  head(): Head | undefined {
    for (;;) {
      if (this.dirty || this.pos >= this.window.length) this.readWindow()
      const name = this.window[this.pos]
      if (!name) return undefined
      const id = EVENT_FILE.exec(name)?.[1] ?? name.slice(0, -'.json'.length)
      let text: string
      try {
        text = readFileSync(join(this.dir, name), 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.pos++
          continue
        }
        return { id, name, invalid: `unreadable: ${describeSystemError(err)}` }
      }
      if (!EVENT_FILE.test(name)) return { id, name, invalid: `not an event file name: ${name}` }
      const r = parseEventRecord(text, id)
      if (!r.ok) return { id, name, invalid: r.reason }
      const replayedAt = readReplayNote(this.dir, id)
      return replayedAt !== undefined ? { id, name, event: r.event, replayedAt } : { id, name, event: r.event }
    }
  }

  private advancePast(name: string): void {
    if (this.window[this.pos] === name) this.pos++
    else this.dirty = true
  }

  /** The head was delivered: it leaves the queue. */
  ack(head: Head): void {
    try {
      unlinkSync(join(this.dir, head.name))
    } catch {
      /* already gone */
    }
    removeReplayNote(this.dir, head.id)
    this.advancePast(head.name)
    this.clearRetry()
  }

  /**
   * The head gives up: its file moves to dead/ as it is (the original bytes),
   * with a .meta file saying why. Throws StorageError when it cannot; the
   * event then stays at the head rather than be lost.
   */
  deadLetter(head: Head, reason: string, attempts: number, now = Date.now()): DeadLetterMeta {
    const meta: DeadLetterMeta = { webhook: this.webhook, reason, dead_at: new Date(now).toISOString(), attempts, ...(head.event ? { type: head.event.type } : {}) }
    const metaPath = join(this.deadDir, `${head.id}.meta`)
    try {
      mkdirSync(this.deadDir, { recursive: true, mode: 0o750 })
      writeFileAtomic(metaPath, JSON.stringify(meta), { fsync: true })
      renameSync(join(this.dir, head.name), join(this.deadDir, head.name))
      fsyncDir(this.deadDir)
    } catch (err) {
      try {
        if (existsSync(join(this.dir, head.name))) unlinkSync(metaPath)
      } catch {
        /* best effort */
      }
      throw new StorageError(`cannot move ${head.name} to ${this.deadDir}: ${describeSystemError(err)}`, { cause: err })
    }
    removeReplayNote(this.dir, head.id)
    this.advancePast(head.name)
    this.clearRetry()
    return meta
  }

  /** Events waiting in this queue. */
  pending(): number {
    if (!this.dirty) return Math.max(0, this.total - this.pos)
    return countEvents(this.dir)
  }

  deadCount(): number {
    return countEvents(this.deadDir)
  }

  /** The head's retry state, if it has failed before (kept across restarts). */
  retry(): RetryState | undefined {
    return readRetryState(this.dir)
  }

  /** Best effort: without it a restart only restarts the backoff. */
  saveRetry(state: RetryState): boolean {
    return saveRetryState(this.dir, state)
  }

  clearRetry(): void {
    clearRetryState(this.dir)
  }

  /**
   * Calls `onAppend` when an event file may have appeared (inotify). Our own
   * deletions fire it too; only a name that exists is news, and a missing name
   * means "look" (inotify overflowed). Returns the watcher's close().
   */
  watch(onAppend: () => void): () => void {
    let watcher: FSWatcher | undefined
    try {
      watcher = watch(this.dir, (_type, name) => {
        if (name && !(name.endsWith('.json') && existsSync(join(this.dir, name)))) return
        this.dirty = true
        onAppend()
      })
      watcher.on('error', () => {})
      watcher.unref()
    } catch {
      // the caller's safety poll still finds new events
    }
    return () => watcher?.close()
  }
}
