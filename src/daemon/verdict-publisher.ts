// runtime_dir/verdict: what `ha-agent check` (without --only) would be told by
// the daemon now, for the sh launcher to answer keepalived without starting
// Node.js (src/launcher). It expires as the round it comes from ages; a daemon
// that stops publishing (crashed, frozen) is not believed past that.
import { resolve } from 'node:path'
import type { AgentConfig } from '../config/index.js'
import { removeVerdictFile, writeVerdictFile } from '../launcher/verdict-file.js'
import type { Logger } from '../log/index.js'
import type { DaemonState } from './state.js'
import { freshFor, knownVerdict } from './verdict.js'

export class VerdictPublisher {
  /** what the file holds now (a peer poll that changes nothing needs no new file) */
  private published = ''
  private failing = false

  constructor(private readonly logger: Logger) {}

  publish(config: AgentConfig, state: DaemonState): void {
    if (!config.configPath) return
    const verdict = knownVerdict(config, state)
    if (!verdict) return // nothing fresh: the old file expires by itself
    const expiresAt = state.latestAt + freshFor(config)
    const key = `${config.runtime_dir} ${expiresAt} ${verdict.healthy} ${JSON.stringify(verdict.checks)}`
    if (key === this.published) return
    try {
      writeVerdictFile(config.runtime_dir, { exitCode: verdict.healthy ? 0 : 1, configPath: resolve(config.configPath), verdict, expiresAt })
      this.published = key
      this.failing = false
    } catch (err) {
      if (!this.failing) this.logger.warn({ err, runtime_dir: config.runtime_dir }, 'cannot publish the verdict file: `ha-agent check` starts Node.js meanwhile')
      this.failing = true
    }
  }

  /** On a clean stop: no verdict is better than one that outlives the daemon by its expiry. */
  remove(config: AgentConfig): void {
    this.published = ''
    try {
      removeVerdictFile(config.runtime_dir)
    } catch (err) {
      this.logger.warn({ err, runtime_dir: config.runtime_dir }, 'cannot remove the verdict file')
    }
  }
}
