// Config loading: the YAML file read and parsed (line and column in errors),
// the document validated by the schema (schema.ts), its secrets read from their
// files (secret-files.ts), the checks between keys made (key-checks.ts), every
// problem listed at once by key path, and the result frozen. Also the types the
// rest of the code sees the config as (AgentConfig), secrets included.
import { hostname } from 'node:os'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import type { z } from 'zod'
import { ConfigError, type ConfigProblem } from '../errors/index.js'
import { apiAccessProblems, commandProblem } from './key-checks.js'
import { configSchema, type ParsedConfig } from './schema.js'
import { DEFAULT_RESEND_INTERVAL_MS } from './webhook-schema.js'
import { envNameFor, hideSecret, readAccessSecretsInto, readFileFor, readSecret, readWebhookSecretsInto, type Reading } from './secret-files.js'

export { DEFAULT_CONFIG_PATH, resolveConfigPath } from './peek.js'

type Webhook = ParsedConfig['webhooks'][number]
type WebhookCommon = Omit<Webhook, 'url' | 'format' | 'command'> & {
  /** Standard Webhooks secrets, `whsec_<base64>`, one signature each (non-enumerable: never logged or printed) */
  readonly secrets?: readonly string[]
  /** PagerDuty routing key (non-enumerable) */
  readonly routingKey?: string
}
/** A webhook that POSTs to a receiver. */
export type HttpWebhookConfig = WebhookCommon & { format: Exclude<Webhook['format'], 'exec'>; url: string; command?: undefined }
/** A local command run for each event (format exec). */
export type ExecWebhookConfig = WebhookCommon & { format: 'exec'; command: readonly string[]; url?: undefined }
export type WebhookConfig = HttpWebhookConfig | ExecWebhookConfig
type Checks = ParsedConfig['checks']
export type PostgresCheckConfig = NonNullable<Checks['postgres']> & { readonly password?: string }
export type PgbouncerCheckConfig = NonNullable<Checks['pgbouncer']> & { readonly adminPassword?: string }
export type ClusterConfig = NonNullable<ParsedConfig['cluster']> & {
  /** bearer token sent to peers and accepted by the API (non-enumerable) */
  readonly token?: string
  /** PEM CA certificate(s) for https:// peers, read from ca_file (non-enumerable) */
  readonly ca?: string
}
type ApiTls = NonNullable<ParsedConfig['api']['tls']> & {
  /** PEM certificate chain and private key (non-enumerable) */
  readonly cert?: string
  readonly key?: string
}
export type ApiConfig = Omit<ParsedConfig['api'], 'tls'> & {
  /** bearer token for readers that are not peers (non-enumerable) */
  readonly token?: string
  tls?: ApiTls
}

export type AgentConfig = Readonly<
  Omit<ParsedConfig, 'node' | 'webhooks' | 'checks' | 'cluster' | 'api'> & {
    node: string
    /** the file this was read from, or null when built in code */
    configPath: string | null
    webhooks: readonly WebhookConfig[]
    checks: Checks & { postgres?: PostgresCheckConfig; pgbouncer?: PgbouncerCheckConfig }
    cluster: ClusterConfig
    api: ApiConfig
  }
>

export interface LoadOptions {
  /** environment for secrets (HA_AGENT_*); the CLI passes process.env */
  env?: Record<string, string | undefined>
  /** defaults to the host name */
  hostname?: string
  /**
   * What the caller needs: `full` (the daemon, `config check`: every secret, the
   * heartbeat schedule checked with node-cron) or `check` (`ha-agent check`
   * probing by itself: only the checks' own secrets; a webhook secret it cannot
   * read must not fail a health check).
   */
  purpose?: 'full' | 'check'
}

/** Path as an operator writes it: webhooks[0].url */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`
    else out += out ? `.${String(p)}` : String(p)
  }
  return out || 'config'
}

function zodProblems(error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key]), message: 'unknown key' })
    } else if (issue.code === 'invalid_union') {
      problems.push({ path: formatPath(issue.path), message: 'invalid value' })
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message })
    }
  }
  return problems
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj)
    for (const key of Object.getOwnPropertyNames(obj)) deepFreeze((obj as Record<string, unknown>)[key])
  }
  return obj
}

/** Validates an already-parsed document. Throws ConfigError listing every problem. */
export function buildConfig(doc: unknown, configPath: string | null, opts: LoadOptions = {}): AgentConfig {
  const env = opts.env ?? {}
  const allSecrets = (opts.purpose ?? 'full') === 'full'
  const result = configSchema.safeParse(doc ?? {})
  if (!result.success) throw new ConfigError(zodProblems(result.error))
  const parsed = result.data
  const problems: ConfigProblem[] = []
  const reading: Reading = { env, problems }

  const seen = new Set<string>()
  parsed.webhooks.forEach((w, i) => {
    if (seen.has(w.name)) problems.push({ path: `webhooks[${i}].name`, message: `duplicate webhook name "${w.name}"` })
    seen.add(w.name)
    // In the effective config (`config check`) as the sink uses it.
    if (w.format === 'alertmanager') w.resend_interval ??= DEFAULT_RESEND_INTERVAL_MS
    if (!allSecrets) return
    if (w.format === 'exec' && w.command) {
      const problem = commandProblem(w.command[0]!)
      if (problem) problems.push({ path: `webhooks[${i}].command`, message: problem })
    }
    readWebhookSecretsInto(w, i, reading)
    if (w.format === 'pagerduty' && !(w as WebhookConfig).routingKey) {
      problems.push({ path: `webhooks[${i}].routing_key_file`, message: 'required for format pagerduty (or set ' + envNameFor(w.name, 'ROUTING_KEY') + ')' })
    }
  })
  const { postgres, pgbouncer } = parsed.checks
  if (postgres) {
    hideSecret(postgres, 'password', readSecret(postgres.password_file, 'checks.postgres.password_file', 'HA_AGENT_POSTGRES_PASSWORD', reading))
    try {
      new URL(postgres.url)
    } catch {
      problems.push({ path: 'checks.postgres.url', message: 'Invalid URL' })
    }
  }
  if (pgbouncer?.admin) {
    hideSecret(pgbouncer, 'adminPassword', readSecret(pgbouncer.admin.password_file, 'checks.pgbouncer.admin.password_file', 'HA_AGENT_PGBOUNCER_ADMIN_PASSWORD', reading))
  }
  if (allSecrets) {
    const { cluster, api } = parsed
    readAccessSecretsInto(cluster, api, reading)
    problems.push(...apiAccessProblems(api, !!(cluster as ClusterConfig).token || !!(api as ApiConfig).token))
  }
  if (problems.length) throw new ConfigError(problems)

  const config = Object.assign(parsed, { node: parsed.node ?? opts.hostname ?? hostname(), configPath })
  return deepFreeze(config) as AgentConfig
}

/** Reads and parses the YAML file: a mapping, or ConfigError naming the file and the line. */
export function readConfigDocument(path: string): Record<string, unknown> | null {
  const problems: ConfigProblem[] = []
  const text = readFileFor(path, 'config', problems)
  if (text === undefined) throw new ConfigError(problems)
  let doc: unknown
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true })
  } catch (err) {
    const e = err as YAMLParseError
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''
    throw new ConfigError([{ path: 'config', message: `${path}: YAML syntax error${where}: ${e.message.split('\n')[0]}` }])
  }
  if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) {
    throw new ConfigError([{ path: 'config', message: `${path}: expected a mapping of keys at the top level` }])
  }
  return (doc ?? null) as Record<string, unknown> | null
}

/** Reads, parses and validates the YAML file. Throws ConfigError (exit 78). */
export async function loadConfig(path: string, opts: LoadOptions = {}): Promise<AgentConfig> {
  const config = buildConfig(readConfigDocument(path), path, opts)
  if ((opts.purpose ?? 'full') === 'full' && config.heartbeat) {
    // node-cron is loaded for a full load only: `check` and `notify` never load it.
    const { validate } = await import('node-cron')
    if (!validate(config.heartbeat)) {
      throw new ConfigError([{ path: 'heartbeat', message: `invalid cron expression ${JSON.stringify(config.heartbeat)} (e.g. "0 9 * * *": daily at 09:00)` }])
    }
  }
  return config
}
