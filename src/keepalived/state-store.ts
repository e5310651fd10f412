// The last known VRRP state per instance, kept where both `ha-agent notify`
// (a short process per transition) and the daemon can read it.
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'
import { describeSystemError, StorageError } from '../errors/index.js'
import type { VrrpState } from '../events/index.js'
import type { Transition } from './notify-args.js'

export interface InstanceState {
  name: string
  kind: 'INSTANCE' | 'GROUP'
  state: VrrpState
  priority: number | null
  /** ISO-8601 of the transition into this state */
  since: string
  /** order of the transition (see fork-order.ts): an older one never overwrites a newer one */
  order?: number
}

/**
 * One file per instance. Names are escaped into file names; a name whose escaped
 * form would pass the 255-byte limit of a file name is shortened and made unique
 * with a hash of the whole name (the file holds the name itself).
 */
function fileFor(stateDir: string, name: string): string {
  let base = encodeURIComponent(name)
  if (base.length > 200) base = `${base.slice(0, 150).replace(/%[0-9A-F]?$/, '')}~${createHash('sha256').update(name).digest('hex').slice(0, 32)}`
  return join(stateDir, 'vrrp', `${base}.json`)
}

/** The recorded state of one instance, or undefined when none (or unreadable). */
export function readInstance(stateDir: string, name: string): InstanceState | undefined {
  try {
    return JSON.parse(readFileSync(fileFor(stateDir, name), 'utf8')) as InstanceState
  } catch {
    return undefined
  }
}

/**
 * Replaces an instance's record: temp file, fsync, rename, so a reader sees the
 * old record or the new one, never a torn one. On failure (full disk) the temp
 * file is removed and the old record stays.
 */
export function writeInstance(stateDir: string, state: InstanceState): void {
  const path = fileFor(stateDir, state.name)
  try {
    mkdirSync(join(stateDir, 'vrrp'), { recursive: true, mode: 0o750 })
    writeFileAtomic(path, JSON.stringify(state), { fsync: true })
  } catch (err) {
    throw new StorageError(`cannot record VRRP state at ${path}: ${describeSystemError(err)}`, { cause: err })
  }
}

/** True when `order` is older than the recorded transition: a notify process that lost the start-up race. */
export function isStale(recorded: InstanceState | undefined, order: number | undefined): boolean {
  return recorded !== undefined && order !== undefined && recorded.order !== undefined && order < recorded.order
}

/**
 * Records the new state; returns the previous one (null when unknown). A
 * transition older (by `order`) than the recorded one leaves the newer state in
 * place and returns null.
 */
export function recordTransition(stateDir: string, t: Transition, at: Date = new Date(), order?: number): VrrpState | null {
  const recorded = readInstance(stateDir, t.instance)
  if (isStale(recorded, order)) return null
  writeInstance(stateDir, stateAfter(t, at, order))
  return recorded?.state ?? null
}

export function stateAfter(t: Transition, at: Date, order?: number): InstanceState {
  return { name: t.instance, kind: t.kind, state: t.state, priority: t.priority, since: at.toISOString(), ...(order !== undefined ? { order } : {}) }
}

export function readInstances(stateDir: string): InstanceState[] {
  const dir = join(stateDir, 'vrrp')
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'))
  } catch {
    return []
  }
  const out: InstanceState[] = []
  for (const n of names.sort()) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as InstanceState)
    } catch {
      /* a torn write cannot happen (rename); an unreadable file is skipped */
    }
  }
  return out
}

/** A modification this close after the directory's mtime may share its timestamp (Linux stamps with a coarse clock: a tick of 1-10 ms). */
const COARSE_MS = 50
const cache = new Map<string, { mtimeNs: bigint; readAt: number; list: readonly InstanceState[] }>()

/**
 * readInstances, read again only when the directory changed: one stat instead
 * of a directory read and a file read per instance. The daemon asks for the
 * instances at every snapshot and every peer's heartbeat. Every change of a
 * record is a rename into the directory, which moves its mtime; a read made
 * within COARSE_MS of that mtime is not trusted (another change may carry the
 * same stamp), so the next call reads again.
 */
export function currentInstances(stateDir: string, now: () => number = Date.now): readonly InstanceState[] {
  let mtimeNs: bigint
  try {
    mtimeNs = statSync(join(stateDir, 'vrrp'), { bigint: true }).mtimeNs
  } catch {
    cache.delete(stateDir)
    return []
  }
  const c = cache.get(stateDir)
  if (c && c.mtimeNs === mtimeNs && c.readAt - Number(mtimeNs / 1_000_000n) > COARSE_MS) return c.list
  const readAt = now()
  const list = Object.freeze(readInstances(stateDir))
  cache.set(stateDir, { mtimeNs, readAt, list })
  return list
}
