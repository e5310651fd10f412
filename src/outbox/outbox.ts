// The durable outbox. An event is written once (temp file, fsync) and hard-linked
// into the queue directory of every webhook that wants it, then the directories
// are fsynced: when append() resolves the event survives a crash or power loss.
//
// Layout under state_dir:
//   queue/<webhook>/<id>.json   pending for that webhook (the dispatcher deletes it when delivered)
//   dead/<webhook>/<id>.json    dead letters, with the reason, kept for operators
// Per-webhook queues (rather than one log plus cursors) let several `ha-agent
// notify` processes and the daemon append at once without a lock: no writer can
// land "behind" a cursor and be skipped. Readers list names, never contents, so a
// webhook down for a day costs a directory listing, not memory.
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { describeSystemError, StorageError } from '../errors/index.js'
import type { AgentEvent, EventType } from '../events/index.js'
import { newEventId } from './ids.js'

export interface OutboxTarget {
  name: string
  /** event types this webhook wants; all when undefined */
  events?: readonly string[] | undefined
}

export interface NewEvent {
  type: EventType
  data: Record<string, unknown>
  /** ISO-8601; now when absent */
  timestamp?: string
  only?: string[]
  /** microseconds since the epoch that order this event (default: now) */
  orderMicros?: number
}

export interface Outbox {
  append(event: NewEvent): Promise<AgentEvent>
}

/**
 * A webhook's directory name. Config allows `.` in names, so "..", "." or
 * ".tmp" would escape the queue or collide with the temp directory: a leading
 * dot is escaped (%2E); every other allowed name is used as it is.
 */
function dirName(webhook: string): string {
  return webhook.startsWith('.') ? '%2E' + webhook.slice(1) : webhook
}

export function queueDir(stateDir: string, webhook: string): string {
  return join(stateDir, 'queue', dirName(webhook))
}

export function deadDir(stateDir: string, webhook: string): string {
  return join(stateDir, 'dead', dirName(webhook))
}

export function wants(target: OutboxTarget, event: Pick<AgentEvent, 'type' | 'only'>): boolean {
  if (event.only && !event.only.includes(target.name)) return false
  return !target.events || target.events.includes(event.type)
}

function fsyncDir(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Writes a file durably (temp + fsync + rename is done by the caller via link). */
export function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o640)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function openOutbox(opts: { stateDir: string; webhooks: readonly OutboxTarget[] }): Outbox {
  const tmpDir = join(opts.stateDir, 'queue', '.tmp')
  return {
    async append(input) {
      const id = newEventId(input.orderMicros)
      const event: AgentEvent = {
        id,
        type: input.type,
        timestamp: input.timestamp ?? new Date().toISOString(),
        data: input.data,
        ...(input.only ? { only: input.only } : {}),
      }
      const targets = opts.webhooks.filter((w) => wants(w, event))
      if (targets.length === 0) return event
      const tmp = join(tmpDir, `${id}.json`)
      let step = tmpDir
      const linked: string[] = []
      try {
        mkdirSync(tmpDir, { recursive: true, mode: 0o750 })
        step = tmp
        writeDurably(tmp, JSON.stringify(event))
        for (const w of targets) {
          const dir = queueDir(opts.stateDir, w.name)
          step = dir
          mkdirSync(dir, { recursive: true, mode: 0o750 })
          const final = join(dir, `${id}.json`)
          step = final
          linkSync(tmp, final)
          linked.push(final)
          fsyncDir(dir)
        }
      } catch (err) {
        // Nothing half-done: either every queue has the event or none does.
        for (const path of linked) {
          try {
            unlinkSync(path)
          } catch {
            /* best effort */
          }
        }
        try {
          unlinkSync(tmp)
        } catch {
          /* may not exist */
        }
        throw new StorageError(`outbox: cannot store ${event.type} event at ${step}: ${describeSystemError(err)}`, { cause: err })
      }
      try {
        unlinkSync(tmp)
      } catch {
        /* the queues hold it; a leftover temp file is harmless */
      }
      return event
    },
  }
}
