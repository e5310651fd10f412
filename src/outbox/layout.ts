// The outbox's files under state_dir (and the spool under runtime_dir). Only
// src/outbox reads and writes them; everyone else asks its API.
//
//   queue/<webhook>/<id>.json    pending for that webhook, oldest id first (a hard link per webhook)
//   queue/<webhook>/.retry       the head's retry state (attempts, next attempt, last error)
//   queue/<webhook>/<id>.replayed  a dead letter put back by `webhook replay`: when (its max_age counts from then)
//   queue/.tmp/                  files being written
//   queue/.full                  written by the daemon while outbox.max_bytes is reached: appends are refused
//   ledger/<id>.json             every event recorded in the last LEDGER_KEEP_MS: a second copy of an id is refused
//   dead/<webhook>/<id>.json     dead letters: the event's original bytes
//   dead/<webhook>/<id>.meta     why and when it died (JSON)
//   <runtime_dir>/spool/<id>.json  events that state_dir could not take (full disk): moved in by the daemon
import { join } from 'node:path'

/** how long the ledger remembers an id (a second copy arrives within seconds: a notify that gave up on the daemon) */
export const LEDGER_KEEP_MS = 3_600_000

/**
 * A webhook's directory name. Config allows `.` in names, so "..", "." or
 * ".tmp" would escape the queue or collide with the temp directory: a leading
 * dot is escaped (%2E); every other allowed name is used as it is.
 */
export function dirName(webhook: string): string {
  return webhook.startsWith('.') ? '%2E' + webhook.slice(1) : webhook
}

/** The webhook a queue directory belongs to (the inverse of dirName). */
export function webhookOfDir(dir: string): string {
  return dir.startsWith('%2E') ? '.' + dir.slice(3) : dir
}

export const queueRoot = (stateDir: string) => join(stateDir, 'queue')
export const queueDir = (stateDir: string, webhook: string) => join(stateDir, 'queue', dirName(webhook))
export const deadRoot = (stateDir: string) => join(stateDir, 'dead')
export const deadDir = (stateDir: string, webhook: string) => join(stateDir, 'dead', dirName(webhook))
export const tmpDir = (stateDir: string) => join(stateDir, 'queue', '.tmp')
export const ledgerDir = (stateDir: string) => join(stateDir, 'ledger')
export const fullMarker = (stateDir: string) => join(stateDir, 'queue', '.full')
export const spoolDir = (runtimeDir: string) => join(runtimeDir, 'spool')

export const EVENT_FILE = /^(msg_[0-9a-f]{24})\.json$/
/** beside a replayed event in its queue: {"replayed_at": ISO-8601} */
export const REPLAYED_SUFFIX = '.replayed'
export const isEventFile = (name: string) => name.endsWith('.json')
