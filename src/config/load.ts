import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync, statSync, type Stats } from 'node:fs'
import { isIPv6 } from 'node:net'
import { hostname } from 'node:os'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import type { z } from 'zod'
import { ConfigError, describeSystemError, type ConfigProblem } from '../errors/index.js'
import { splitHostPort } from './host-port.js'
import { configSchema, DEFAULT_RESEND_INTERVAL_MS, type ParsedConfig } from './schema.js'
import { MAKE_SECRET, secretProblem } from './webhook-secret.js'

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

/** Where a config's secrets come from besides files (its environment), and where its problems go. */
interface Reading {
  env: Record<string, string | undefined>
  problems: ConfigProblem[]
}

/**
 * A file's text, or undefined with a problem naming the key: the file cannot be
 * read, or `refuse` (shown its stat) says why it must not be.
 */
function readFileFor(path: string, keyPath: string, problems: ConfigProblem[], refuse?: (st: Stats) => string | undefined): string | undefined {
  try {
    const why = refuse?.(statSync(path))
    if (why) {
      problems.push({ path: keyPath, message: why })
      return undefined
    }
    return readFileSync(path, 'utf8')
  } catch (err) {
    problems.push({ path: keyPath, message: `cannot read ${path}: ${describeSystemError(err)}` })
    return undefined
  }
}

/**
 * As ssh refuses a private key others can read, a secret file that is not the
 * owner's and its group's alone is refused: readable or writable by every
 * user, or owned by a user other than root or the one ha-agent runs as (who
 * could read or swap it).
 */
function secretFileProblem(path: string, st: Stats): string | undefined {
  const mode = st.mode & 0o777
  const fix = `chmod 0640 ${path}; chown root:ha-agent ${path}`
  if (mode & 0o007) return `${path} is ${mode & 0o002 ? 'writable' : 'readable'} by every user (mode ${mode.toString(8).padStart(4, '0')}): ${fix}`
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== 0 && st.uid !== uid) return `${path} belongs to user ${st.uid}, neither root nor this process's user (${uid}): ${fix}`
  return undefined
}

/** A secret file's content (UTF-8, trimmed); a problem naming the key when it is refused, unreadable or empty. */
function readSecretFile(path: string, keyPath: string, problems: ConfigProblem[]): string | undefined {
  const value = readFileFor(path, keyPath, problems, (st) => secretFileProblem(path, st))?.trim()
  if (value === '') problems.push({ path: keyPath, message: `${path} is empty` })
  return value
}

/** A secret from the file its `*_file` key names, else from its environment variable. */
function readSecret(file: string | undefined, keyPath: string, envName: string, r: Reading): string | undefined {
  if (file) return readSecretFile(file, keyPath, r.problems)
  return r.env[envName] || undefined
}

/** A certificate file (not a secret: no mode rule), checked to be PEM that parses. */
function readCertificate(path: string, keyPath: string, problems: ConfigProblem[]): string | undefined {
  const pem = readFileFor(path, keyPath, problems)
  if (pem === undefined) return undefined
  try {
    new X509Certificate(pem)
    return pem
  } catch {
    problems.push({ path: keyPath, message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` })
    return undefined
  }
}

/** A bearer token: one word of printable ASCII (it goes in a header), long enough not to be guessed. */
function checkToken(token: string | undefined, keyPath: string, problems: ConfigProblem[]): string | undefined {
  if (token === undefined || token === '') return token
  if (!/^[\x21-\x7e]+$/.test(token)) {
    problems.push({ path: keyPath, message: 'the token must be one word of printable ASCII (e.g. openssl rand -hex 32)' })
    return undefined
  }
  if (token.length < 16) {
    problems.push({ path: keyPath, message: `the token is ${token.length} characters: use at least 16 (e.g. openssl rand -hex 32)` })
    return undefined
  }
  return token
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: what only this host reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/^::ffff:(?=\d)/, '')
  if (h === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true
  if (!isIPv6(h)) return false
  // every spelling of ::1 (0:0:0:0:0:0:0:1 ...) is written ::1 once parsed
  return new URL(`http://[${h}]/`).hostname === '[::1]'
}

/**
 * A webhook's Standard Webhooks secrets: from each file of `secret_file` (a
 * path or a list), else from the environment (several separated by spaces).
 * Each must be `whsec_` + base64; a problem names the file or the variable and
 * how to make a good one, never the secret itself.
 */
function readWebhookSecrets(files: string | readonly string[] | undefined, keyPath: string, envName: string, { env, problems }: Reading): string[] | undefined {
  const found: string[] = []
  if (files !== undefined) {
    const list = typeof files === 'string' ? [files] : files
    list.forEach((file, j) => {
      const path = typeof files === 'string' ? keyPath : `${keyPath}[${j}]`
      const value = readSecretFile(file, path, problems)
      if (!value) return
      const why = secretProblem(value)
      if (why) problems.push({ path, message: `${file} ${why}: it must hold a Standard Webhooks secret, whsec_ + base64 of 24 to 64 random bytes; make one with ${MAKE_SECRET} > ${file}` })
      else found.push(value)
    })
  } else {
    const values = env[envName]?.split(/\s+/).filter(Boolean) ?? []
    values.forEach((value, j) => {
      const why = secretProblem(value)
      const which = values.length > 1 ? `secret ${j + 1} of $${envName}` : `$${envName}`
      if (why) problems.push({ path: keyPath, message: `${which} ${why}: it must be a Standard Webhooks secret, whsec_ + base64 of 24 to 64 random bytes; make one with ${MAKE_SECRET}` })
      else found.push(value)
    })
  }
  return found.length ? found : undefined
}

/**
 * A hook program anyone can rewrite runs their code as the daemon's user: refused,
 * as a world-readable secret is. A program not installed yet is fine (the hook
 * is retried until it is, within max_age).
 */
function commandProblem(program: string): string | undefined {
  let mode: number
  try {
    mode = statSync(program).mode
  } catch {
    return undefined
  }
  if (mode & 0o002) return `${program} is writable by every user (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}): chmod o-w ${program}`
  return undefined
}

function hideSecret<T extends object>(obj: T, key: string, value: string | readonly string[] | undefined): void {
  if (value === undefined) return
  Object.defineProperty(obj, key, { value, enumerable: false, writable: false, configurable: false })
}

export function envNameFor(webhookName: string, what: 'SECRET' | 'ROUTING_KEY'): string {
  return `HA_AGENT_WEBHOOK_${webhookName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`
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
    if (w.format !== 'exec') hideSecret(w, 'secrets', readWebhookSecrets(w.secret_file, `webhooks[${i}].secret_file`, envNameFor(w.name, 'SECRET'), reading))
    hideSecret(w, 'routingKey', readSecret(w.routing_key_file, `webhooks[${i}].routing_key_file`, envNameFor(w.name, 'ROUTING_KEY'), reading))
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
    hideSecret(cluster, 'token', checkToken(readSecret(cluster.token_file, 'cluster.token_file', 'HA_AGENT_CLUSTER_TOKEN', reading), 'cluster.token_file', problems))
    hideSecret(api, 'token', checkToken(readSecret(api.token_file, 'api.token_file', 'HA_AGENT_API_TOKEN', reading), 'api.token_file', problems))
    if (cluster.ca_file) hideSecret(cluster, 'ca', readCertificate(cluster.ca_file, 'cluster.ca_file', problems))
    if (api.tls) {
      hideSecret(api.tls, 'cert', readCertificate(api.tls.cert_file, 'api.tls.cert_file', problems))
      const key = readSecretFile(api.tls.key_file, 'api.tls.key_file', problems)
      if (key) {
        try {
          createPrivateKey(key)
          hideSecret(api.tls, 'key', key)
        } catch {
          problems.push({ path: 'api.tls.key_file', message: `${api.tls.key_file} holds no PEM private key` })
        }
      }
    }
    // An API others can reach answers only those holding a token, unless the operator says otherwise.
    const hasToken = !!(cluster as ClusterConfig).token || !!(api as ApiConfig).token
    if (api.listen && !hasToken && !api.allow_unauthenticated && !isLoopbackHost(splitHostPort(api.listen).host)) {
      problems.push({
        path: 'api.listen',
        message:
          `${api.listen} is reachable from other hosts and no token guards the API: set cluster.token_file (or api.token_file), ` +
          'listen on 127.0.0.1, or set api.allow_unauthenticated: true',
      })
    }
    if (api.allow_unauthenticated && hasToken) {
      problems.push({ path: 'api.allow_unauthenticated', message: 'a token is configured, so the API is not unauthenticated: remove this key' })
    }
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
