// What `ha-agent notify` needs to record a transition when no daemon takes it:
// where the outbox is, this node's name, and which webhooks want which events.
// Nothing else: no secret (keepalived's script_user may not be able to read
// them; a secret only the daemon's environment has is fine), and a problem in an
// unrelated part of the file (a typo in checks:, a bad cron) must not cost a
// transition. The daemon, which delivers, validates the whole file.
import { hostname } from 'node:os'
import { z } from 'zod'
import { ConfigError } from '../errors/index.js'
import { formatPath, readConfigDocument } from './load.js'
import { DEFAULT_RUNTIME_DIR, DEFAULT_STATE_DIR } from './peek.js'

export interface RecordingConfig {
  node: string
  state_dir: string
  runtime_dir: string
  webhooks: ReadonlyArray<{ name: string; events?: readonly string[] | undefined }>
  configPath: string
}

const schema = z.looseObject({
  node: z.string().min(1).optional(),
  state_dir: z.string().min(1).default(DEFAULT_STATE_DIR),
  runtime_dir: z.string().min(1).default(DEFAULT_RUNTIME_DIR),
  webhooks: z
    .array(
      z.looseObject({
        name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -').max(100),
        events: z.array(z.string().min(1)).optional(),
      }),
    )
    .default([]),
})

/** Reads just what recording needs. Throws ConfigError (naming the key) when even that is unusable. */
export function loadRecordingConfig(path: string, opts: { hostname?: string } = {}): RecordingConfig {
  const r = schema.safeParse(readConfigDocument(path) ?? {})
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })))
  const { node, state_dir, runtime_dir, webhooks } = r.data
  return { node: node ?? opts.hostname ?? hostname(), state_dir, runtime_dir, webhooks: webhooks.map((w) => ({ name: w.name, events: w.events })), configPath: path }
}
