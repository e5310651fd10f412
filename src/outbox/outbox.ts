// The durable outbox. An event is written once (temp file, fsync) and hard-linked
// into the queue directory of every webhook that wants it and into the ledger,
// then the directories are fsynced: when append() resolves, the event survives a
// crash or power loss.
//
// Per-webhook queues (rather than one log plus cursors) let several `ha-agent
// notify` processes and the daemon append at once without a lock: no writer can
// land "behind" a cursor and be skipped. The ledger makes an id count once: the
// process keepalived forked chooses the id, and whether the daemon records it on
// its behalf, the process itself after the daemon did not answer, or both, the
// second copy is refused (see layout.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describeSystemError, StorageError } from '../errors/index.js'
import type { AgentEvent, EventType } from '../events/index.js'
import { createFile, fsyncDir, linkUnlessExists, removeQuietly, writeFileAtomic } from '../fs/atomic.js'
import { newEventId } from './ids.js'
import { fullMarker, ledgerDir, queueDir, spoolDir, tmpDir } from './layout.js'

export interface OutboxTarget {
  name: string
  /** event types this webhook wants; all when undefined */
  events?: readonly string[] | undefined
}

export interface NewEvent {
  type: EventType
  data: Record<string, unknown>
  /** the event's id, when the caller chose it (a notify process, a spooled event); new otherwise */
  id?: string
  /** ISO-8601; now when absent */
  timestamp?: string
  only?: string[]
  /** microseconds since the epoch that order this event (default: now); ignored with `id` */
  orderMicros?: number
}

export interface Outbox {
  /**
   * Records the event for every webhook that wants it and resolves once it is
   * durable. Idempotent by id: an id the ledger already has is not recorded
   * again. Throws StorageError when it cannot.
   */
  append(event: NewEvent): Promise<AgentEvent>
}

export function wants(target: OutboxTarget, event: Pick<AgentEvent, 'type' | 'only'>): boolean {
  if (event.only && !event.only.includes(target.name)) return false
  return !target.events || target.events.includes(event.type)
}

export function toEvent(input: NewEvent): AgentEvent {
  return {
    id: input.id ?? newEventId(input.orderMicros),
    type: input.type,
    timestamp: input.timestamp ?? new Date().toISOString(),
    data: input.data,
    ...(input.only ? { only: input.only } : {}),
  }
}

/** Why appends are refused right now (outbox.max_bytes reached), or undefined. */
export function outboxFullReason(stateDir: string): string | undefined {
  try {
    return readFileSync(fullMarker(stateDir), 'utf8').trim() || 'outbox.max_bytes reached'
  } catch {
    return undefined
  }
}

export function openOutbox(opts: { stateDir: string; webhooks: readonly OutboxTarget[] }): Outbox {
  const { stateDir } = opts
  return {
    async append(input) {
      const event = toEvent(input)
      const full = outboxFullReason(stateDir)
      if (full) throw new StorageError(`outbox: cannot store ${event.type} event ${event.id}: ${full}`)
      const targets = opts.webhooks.filter((w) => wants(w, event))
      if (targets.length === 0) return event
      const ledger = join(ledgerDir(stateDir), `${event.id}.json`)
      if (existsSync(ledger)) return event
      const tmp = join(tmpDir(stateDir), `${event.id}.${process.pid}.json`)
      let step = tmpDir(stateDir)
      const linked: string[] = []
      try {
        mkdirSync(tmpDir(stateDir), { recursive: true, mode: 0o750 })
        step = tmp
        createFile(tmp, JSON.stringify(event), { fsync: true })
        for (const w of targets) {
          const dir = queueDir(stateDir, w.name)
          step = dir
          mkdirSync(dir, { recursive: true, mode: 0o750 })
          const final = join(dir, `${event.id}.json`)
          step = final
          // Not linked: the same id queued by another process a moment ago (a
          // notify that gave up on a slow daemon); one copy in the queue is the point.
          if (linkUnlessExists(tmp, final)) linked.push(final)
          fsyncDir(dir)
        }
        // The ledger entry last: a crash before it can only mean a second copy
        // later (at least once), never an id refused that was never queued.
        step = ledgerDir(stateDir)
        mkdirSync(ledgerDir(stateDir), { recursive: true, mode: 0o750 })
        step = ledger
        linkUnlessExists(tmp, ledger)
        fsyncDir(ledgerDir(stateDir))
      } catch (err) {
        // Nothing half-done: every queue has the event or none does.
        for (const path of linked) removeQuietly(path)
        removeQuietly(tmp)
        throw new StorageError(`outbox: cannot store ${event.type} event at ${step}: ${describeSystemError(err)}`, { cause: err })
      }
      removeQuietly(tmp)
      return event
    },
  }
}

/**
 * Keeps an event that state_dir could not take (full or read-only disk) under
 * runtime_dir, a tmpfs: it survives a daemon restart, not a reboot. The daemon
 * moves spooled events into the outbox once there is room. Returns the path.
 */
export function spoolEvent(runtimeDir: string, input: NewEvent): { event: AgentEvent; path: string } {
  const event = toEvent(input)
  const dir = spoolDir(runtimeDir)
  const path = join(dir, `${event.id}.json`)
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 })
    writeFileAtomic(path, JSON.stringify(event), { fsync: true })
  } catch (err) {
    throw new StorageError(`cannot keep ${event.type} event ${event.id} in ${dir} either: ${describeSystemError(err)}`, { cause: err })
  }
  return { event, path }
}
