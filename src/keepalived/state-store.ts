// The last known VRRP state per instance, kept where both `ha-agent notify`
// (a short process per transition) and the daemon can read it.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
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

function fileFor(stateDir: string, name: string): string {
  return join(stateDir, 'vrrp', `${encodeURIComponent(name)}.json`)
}

/**
 * Records the new state; returns the previous one (null when unknown). A
 * transition older (by `order`) than the recorded one is a notify process that
 * lost the start-up race: it leaves the newer state in place.
 */
export function recordTransition(stateDir: string, t: Transition, at: Date = new Date(), order?: number): VrrpState | null {
  const path = fileFor(stateDir, t.instance)
  let recorded: InstanceState | undefined
  try {
    recorded = JSON.parse(readFileSync(path, 'utf8')) as InstanceState
  } catch {
    recorded = undefined
  }
  if (recorded && order !== undefined && recorded.order !== undefined && order < recorded.order) return null
  const previous = recorded?.state ?? null
  const next: InstanceState = { name: t.instance, kind: t.kind, state: t.state, priority: t.priority, since: at.toISOString(), ...(order !== undefined ? { order } : {}) }
  try {
    mkdirSync(join(stateDir, 'vrrp'), { recursive: true, mode: 0o750 })
    writeFileSync(`${path}.${process.pid}.tmp`, JSON.stringify(next))
    renameSync(`${path}.${process.pid}.tmp`, path)
  } catch (err) {
    throw new StorageError(`cannot record VRRP state at ${path}: ${describeSystemError(err)}`, { cause: err })
  }
  return previous
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
