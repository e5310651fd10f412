// What an operator asked of this node, kept under state_dir so that it holds
// across daemon restarts, package upgrades and reboots: maintenance (the node
// stays out of MASTER: keepalived's track_file says 1) and the yield of a
// switchover (the node that handed the VIP over runs 2 below its priority, so
// it does not preempt it back). Two writers read it: the daemon, and `ha-agent
// check` keeping the track files while no daemon runs (checks/track-fallback.ts),
// so this module loads nothing but node:fs and fs/ (the atomic write, the read).
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'
import { readJsonFile } from '../fs/read.js'
import { readTrackFile, writeTrackFile } from './track-file.js'

export interface MaintenanceState {
  on: boolean
  /** ISO-8601, when it was turned on; null when off */
  since: string | null
  reason: string | null
  /** the node held the VIP when it was turned on: `off` hands it back (stored, not shown in /status) */
  was_master?: boolean
}

export interface YieldState {
  yielding: boolean
  since: string | null
  /** why, for people: "switchover to haproxy2" */
  reason: string | null
}

export const MAINTENANCE_FILE = 'maintenance.json'
export const YIELD_STATE_FILE = 'yield.json'

export const MAINTENANCE_OFF: MaintenanceState = Object.freeze({ on: false, since: null, reason: null })
export const NOT_YIELDING: YieldState = Object.freeze({ yielding: false, since: null, reason: null })

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

function readJson(path: string): { missing: true } | { value: unknown } | { error: string } {
  const r = readJsonFile(path)
  if ('unreadable' in r) return { error: `cannot read ${path}: ${r.unreadable.code ?? r.unreadable.message}` }
  if ('invalid' in r) return { error: `${path} is not JSON` }
  return r
}

/**
 * The stored maintenance state. A file that is there but cannot be read or
 * parsed counts as maintenance ON (an operator's word was written and is lost:
 * keeping the node out of MASTER is the safe reading), with the problem as its
 * reason; written atomically, it does not tear.
 */
export function readMaintenance(stateDir: string): MaintenanceState {
  const path = join(stateDir, MAINTENANCE_FILE)
  const r = readJson(path)
  if ('missing' in r) return MAINTENANCE_OFF
  if ('error' in r) return { on: true, since: null, reason: `${r.error} (counted as maintenance on)` }
  const v = r.value as Record<string, unknown> | null
  if (!v || typeof v !== 'object' || typeof v.on !== 'boolean') return { on: true, since: null, reason: `${path} holds no "on" (counted as maintenance on)` }
  return v.on ? { on: true, since: str(v.since), reason: str(v.reason), ...(v.was_master === true ? { was_master: true } : {}) } : MAINTENANCE_OFF
}

/** The stored yield; a file that cannot be read counts as not yielding (the node keeps its configured priority). */
export function readYield(stateDir: string): YieldState {
  const r = readJson(join(stateDir, YIELD_STATE_FILE))
  if (!('value' in r)) return NOT_YIELDING
  const v = r.value as Record<string, unknown> | null
  if (!v || typeof v !== 'object' || v.yielding !== true) return NOT_YIELDING
  return { yielding: true, since: str(v.since), reason: str(v.reason) }
}

function store(stateDir: string, name: string, value: unknown): void {
  const path = join(stateDir, name)
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 })
  // fsync: it must survive a power cut, it is what the node does after the reboot
  writeFileAtomic(path, JSON.stringify(value) + '\n', { fsync: true, mode: 0o640 })
}

export function writeMaintenance(stateDir: string, m: MaintenanceState): void {
  store(stateDir, MAINTENANCE_FILE, m)
}

export function writeYield(stateDir: string, y: YieldState): void {
  store(stateDir, YIELD_STATE_FILE, y)
}

/**
 * Puts the yield file (keepalived.yield_file: 1 = priority lowered) in line
 * with the stored yield; true when it wrote. Used by `check` while no daemon
 * runs (after a reboot the file under /run is gone).
 */
export function keepYieldFile(path: string, stateDir: string): boolean {
  const want = readYield(stateDir).yielding
  if (readTrackFile(path) === (want ? '1' : '0')) return false
  writeTrackFile(path, want)
  return true
}
