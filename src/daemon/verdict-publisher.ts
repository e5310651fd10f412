// runtime_dir/verdict: what `ha-agent check` (without --only) would be told by
// the daemon now, for the sh launcher to answer keepalived without starting
// Node.js (src/launcher). It expires as the round it comes from ages; a daemon
// that stops publishing (crashed, frozen) is not believed past that.
//
// Most rounds change nothing but the latencies: then only the file's mtime (its
// expiry) moves, one utimes() instead of a new file and a rename (the largest
// item in the daemon's steady-state profile, bench/RESULTS.md). The content,
// latencies and checkedAt included, is rewritten when the outcome changes and
// at least every REWRITE_MS, so `check --json` shows figures at most that old.
import { resolve } from 'node:path'
import type { AgentConfig } from '../config/index.js'
import { extendVerdictFile, removeVerdictFile, writeVerdictFile } from '../launcher/verdict-file.js'
import type { Logger } from '../log/index.js'
import type { DaemonState } from './state.js'
import { freshFor, knownVerdict } from './verdict.js'

/** the longest the file's content (latencies, checkedAt) goes unrewritten while the outcome holds */
export const REWRITE_MS = 10_000

export class VerdictPublisher {
  /** the outcome the file holds now (what `check` exits with and says, latencies aside) */
  private outcome = ''
  private writtenAt = 0
  private expiresAt = 0
  private failing = false

  constructor(private readonly logger: Logger) {}

  publish(config: AgentConfig, state: DaemonState, now = Date.now()): void {
    if (!config.configPath) return
    const verdict = knownVerdict(config, state, undefined, now)
    if (!verdict) return // nothing fresh: the old file expires by itself
    const expiresAt = state.latestAt + freshFor(config)
    const outcome = JSON.stringify([config.runtime_dir, resolve(config.configPath), verdict.healthy, verdict.checks.map((c) => [c.name, c.status, c.detail])])
    try {
      if (outcome === this.outcome && now - this.writtenAt < REWRITE_MS) {
        if (expiresAt !== this.expiresAt) extendVerdictFile(config.runtime_dir, expiresAt)
      } else {
        writeVerdictFile(config.runtime_dir, { exitCode: verdict.healthy ? 0 : 1, configPath: resolve(config.configPath), verdict, expiresAt })
        this.outcome = outcome
        this.writtenAt = now
      }
      this.expiresAt = expiresAt
      this.failing = false
    } catch (err) {
      // Written next time in full (a file removed under us cannot be extended).
      this.outcome = ''
      if (!this.failing) this.logger.warn({ err, runtime_dir: config.runtime_dir }, 'cannot publish the verdict file: `ha-agent check` starts Node.js meanwhile')
      this.failing = true
    }
  }

  /** On a clean stop: no verdict is better than one that outlives the daemon by its expiry. */
  remove(config: AgentConfig): void {
    this.outcome = ''
    try {
      removeVerdictFile(config.runtime_dir)
    } catch (err) {
      this.logger.warn({ err, runtime_dir: config.runtime_dir }, 'cannot remove the verdict file')
    }
  }
}
