// What keeps the outbox bounded, run by the daemon every minute or so: old dead
// letters, ledger entries and stray temp files go; the total size is measured and
// compared with outbox.max_bytes (past it, appends are refused with a clear error
// rather than fill the disk keepalived and HAProxy share); queues of webhooks that
// are no longer configured are found and reported; spooled events are moved in.
import { opendir, readdir, readFile, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { writeFileAtomic } from '../fs/atomic.js'
import { StorageError } from '../errors/index.js'
import { eventIdTime } from './ids.js'
import { deadRoot, dirName, fullMarker, LEDGER_KEEP_MS, ledgerDir, queueRoot, REPLAYED_SUFFIX, spoolDir, tmpDir } from './layout.js'
import type { Outbox } from './outbox.js'
import { parseEventRecord } from './record.js'
import type { AgentEvent } from '../events/index.js'

/** temp files older than this were left by a crash */
const STRAY_TMP_MS = 3_600_000

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch {
    return []
  }
}

/** ms epoch a file in the outbox stands for: its id's time, else its mtime. */
async function ageBase(path: string, name: string): Promise<number> {
  const fromId = name.startsWith('msg_') ? eventIdTime(name) : NaN
  if (Number.isFinite(fromId)) return fromId
  try {
    return (await stat(path)).mtimeMs
  } catch {
    return Date.now()
  }
}

export interface PruneResult {
  dead: number
  ledger: number
  tmp: number
}

/** Deletes dead letters older than deadMaxAgeMs (by when they died), old ledger entries and stray temp files. */
export async function pruneOutbox(stateDir: string, opts: { deadMaxAgeMs: number; now?: number }): Promise<PruneResult> {
  const now = opts.now ?? Date.now()
  const result: PruneResult = { dead: 0, ledger: 0, tmp: 0 }
  for (const w of await names(deadRoot(stateDir))) {
    const dir = join(deadRoot(stateDir), w)
    for (const n of await names(dir)) {
      if (!n.endsWith('.json')) continue
      const id = n.slice(0, -'.json'.length)
      let died: number
      try {
        died = Date.parse((JSON.parse(await readFile(join(dir, `${id}.meta`), 'utf8')) as { dead_at: string }).dead_at)
      } catch {
        died = (await stat(join(dir, n)).catch(() => ({ mtimeMs: now }))).mtimeMs
      }
      if (!(now - died > opts.deadMaxAgeMs)) continue
      await rm(join(dir, `${id}.meta`), { force: true })
      await rm(join(dir, n), { force: true })
      result.dead++
    }
  }
  for (const n of await names(ledgerDir(stateDir))) {
    if (now - (await ageBase(join(ledgerDir(stateDir), n), n)) > LEDGER_KEEP_MS) {
      await unlink(join(ledgerDir(stateDir), n)).catch(() => {})
      result.ledger++
    }
  }
  for (const n of await names(tmpDir(stateDir))) {
    const path = join(tmpDir(stateDir), n)
    const s = await stat(path).catch(() => undefined)
    if (s && now - s.mtimeMs > STRAY_TMP_MS) {
      await unlink(path).catch(() => {})
      result.tmp++
    }
  }
  // A replay note whose event left the queue (a crash between the two unlinks).
  for (const q of await names(queueRoot(stateDir))) {
    const dir = join(queueRoot(stateDir), q)
    for (const n of await names(dir)) {
      if (!n.endsWith(REPLAYED_SUFFIX)) continue
      const event = join(dir, n.slice(0, -REPLAYED_SUFFIX.length) + '.json')
      const s = await stat(join(dir, n)).catch(() => undefined)
      if (s && now - s.mtimeMs > STRAY_TMP_MS && !(await stat(event).catch(() => undefined))) {
        await unlink(join(dir, n)).catch(() => {})
        result.tmp++
      }
    }
  }
  // Atomic writes elsewhere under state_dir (VRRP state, retry state) leave *.tmp only on a crash.
  for (const sub of ['', 'vrrp']) {
    for (const n of await names(join(stateDir, sub))) {
      if (!n.endsWith('.tmp')) continue
      const path = join(stateDir, sub, n)
      const s = await stat(path).catch(() => undefined)
      if (s?.isFile() && now - s.mtimeMs > STRAY_TMP_MS) {
        await unlink(path).catch(() => {})
        result.tmp++
      }
    }
  }
  return result
}

export interface OutboxUsage {
  /** disk space of queues, dead letters and the ledger (each file once, however many links) */
  bytes: number
  /** queues of webhooks not in the config: nobody delivers them */
  orphaned: Array<{ queue: string; pending: number }>
}

/** Measures the outbox without blocking the event loop (a long backlog is many files). */
export async function measureOutbox(stateDir: string, configured: readonly string[]): Promise<OutboxUsage> {
  const seen = new Set<number>()
  let bytes = 0
  const add = async (path: string) => {
    const s = await stat(path).catch(() => undefined)
    if (!s || !s.isFile() || seen.has(s.ino)) return
    seen.add(s.ino)
    bytes += s.blocks * 512
  }
  const walk = async (dir: string) => {
    let handle
    try {
      handle = await opendir(dir, { bufferSize: 256 })
    } catch {
      return
    }
    for await (const e of handle) if (e.isFile()) await add(join(dir, e.name))
  }
  const known = new Set(configured.map(dirName))
  const orphaned: OutboxUsage['orphaned'] = []
  for (const q of await names(queueRoot(stateDir))) {
    if (q.startsWith('.')) continue
    await walk(join(queueRoot(stateDir), q))
    if (!known.has(q)) {
      const pending = (await names(join(queueRoot(stateDir), q))).filter((n) => n.endsWith('.json')).length
      if (pending) orphaned.push({ queue: q, pending })
    }
  }
  for (const d of await names(deadRoot(stateDir))) await walk(join(deadRoot(stateDir), d))
  await walk(ledgerDir(stateDir))
  return { bytes, orphaned }
}

/** Writes or removes the marker that makes append() refuse; returns the reason, or null when there is room. */
export function updateFullMarker(stateDir: string, usage: OutboxUsage, maxBytes: number): string | null {
  const path = fullMarker(stateDir)
  if (usage.bytes < maxBytes) {
    rmSync(path, { force: true })
    return null
  }
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`
  const reason =
    `outbox.max_bytes reached (${mib(usage.bytes)} of ${mib(maxBytes)} in ${stateDir}/queue, dead, ledger): new events are refused; ` +
    'see `ha-agent status` for the webhook that is not taking them, `ha-agent webhook dead` for dead letters'
  writeFileAtomic(path, reason + '\n', { fsync: false })
  return reason
}

/** How many events wait in the spool. */
export async function spooledCount(runtimeDir: string): Promise<number> {
  return (await names(spoolDir(runtimeDir))).filter((n) => n.endsWith('.json')).length
}

export interface DrainResult {
  moved: AgentEvent[]
  left: number
  /** why the rest stays in the spool */
  error?: string
}

/**
 * Moves spooled events into the outbox, oldest first, each with its own id (so
 * one already recorded is not recorded twice). Stops at the first that does not
 * fit; an unreadable one is kept aside with `.bad` appended and reported.
 */
export async function drainSpool(runtimeDir: string, outbox: Outbox): Promise<DrainResult> {
  const dir = spoolDir(runtimeDir)
  const files = (await names(dir)).filter((n) => n.endsWith('.json')).sort()
  const moved: AgentEvent[] = []
  for (let i = 0; i < files.length; i++) {
    const path = join(dir, files[i]!)
    const r = parseEventRecord(await readFile(path, 'utf8').catch(() => ''), files[i]!.slice(0, -'.json'.length))
    if (!r.ok) {
      const { rename } = await import('node:fs/promises')
      await rename(path, `${path}.bad`).catch(() => {})
      return { moved, left: files.length - i - 1, error: `${path}: ${r.reason} (kept as ${path}.bad)` }
    }
    try {
      await outbox.append(r.event)
    } catch (err) {
      if (err instanceof StorageError) return { moved, left: files.length - i, error: err.message }
      throw err
    }
    await unlink(path).catch(() => {})
    moved.push(r.event)
  }
  return { moved, left: 0 }
}
