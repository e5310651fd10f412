// The daemon is a list of parts, started in order and stopped in reverse, all
// or nothing (after oklog/run's group and fastify's avvio): a part that cannot
// start stops those already started, and the error names the part. A reload
// starts the parts whose config changed beside the running ones, and lets go of
// the old ones only once every new one runs; if one cannot start, the new ones
// stop and the old ones go on, whole.
import type { AgentConfig as C } from '../config/index.js'
import { PartError } from '../errors/index.js'

export interface Running<S = unknown> {
  /** what other parts may use while this one runs (the dispatcher, the outbox ...) */
  service?: S
  stop(): Promise<void>
  /** a reload kept this part (its key did not change): the new config, for what it reads as it goes */
  update?(config: C): void
}

export interface Part {
  name: string
  /** the config this part is built from; a reload restarts it only when this changes */
  key(config: C): unknown
  start(config: C): Promise<Running>
}

interface Started {
  part: Part
  key: string
  running: Running
}

const keyOf = (part: Part, config: C) => JSON.stringify(part.key(config) ?? null)

export class PartGroup {
  private started: Started[] = []

  constructor(private readonly parts: readonly Part[]) {}

  /** The service of a running part, by name. */
  service<S>(name: string): S | undefined {
    return this.started.find((s) => s.part.name === name)?.running.service as S | undefined
  }

  /** Starts every part in order; on a failure stops the started ones in reverse and throws PartError. */
  async start(config: C): Promise<void> {
    const started: Started[] = []
    this.started = started
    for (const part of this.parts) {
      try {
        started.push({ part, key: keyOf(part, config), running: await part.start(config) })
      } catch (err) {
        await stopAll(started)
        this.started = []
        throw err instanceof PartError ? err : new PartError(part.name, err)
      }
    }
  }

  /**
   * Moves to `next`: parts whose key changed are started anew beside the old
   * ones; once all run, `commit` makes `next` the config, kept parts get
   * update(next), and the replaced ones stop. Returns the names restarted.
   * On a failure nothing changes and PartError is thrown.
   */
  async reload(next: C, commit: () => void): Promise<string[]> {
    const replacements = new Map<Started, Started>()
    for (const s of this.started) {
      const key = keyOf(s.part, next)
      if (key === s.key) continue
      try {
        replacements.set(s, { part: s.part, key, running: await s.part.start(next) })
      } catch (err) {
        await stopAll([...replacements.values()])
        throw err instanceof PartError ? err : new PartError(s.part.name, err)
      }
    }
    commit()
    this.started = this.started.map((s) => replacements.get(s) ?? s)
    for (const s of this.started) if (![...replacements.values()].includes(s)) s.running.update?.(next)
    await stopAll([...replacements.keys()])
    return [...replacements.keys()].map((s) => s.part.name)
  }

  /** Stops every running part, in reverse order. */
  async stop(): Promise<void> {
    const started = this.started
    this.started = []
    await stopAll(started)
  }
}

async function stopAll(started: readonly Started[]): Promise<void> {
  for (const s of [...started].reverse()) {
    try {
      await s.running.stop()
    } catch {
      // one part failing to stop must not keep the others running
    }
  }
}
