// The files a config's `*_file` keys name, and the HA_AGENT_* variables that
// stand in for them: read once when the config is built, refused when others
// could read or swap a secret (as ssh refuses such a private key), checked to be
// what they claim (a PEM certificate or key, a Standard Webhooks secret, a token
// fit for a header), and kept in non-enumerable fields so that no log, error or
// `config check` ever shows them. Each problem names the key, never the secret.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync, statSync, type Stats } from 'node:fs'
import { describeSystemError, type ConfigProblem } from '../errors/index.js'
import type { ParsedConfig } from './schema.js'
import { MAKE_SECRET, secretProblem } from './webhook-secret.js'

/** Where a config's secrets come from besides files (its environment), and where its problems go. */
export interface Reading {
  env: Record<string, string | undefined>
  problems: ConfigProblem[]
}

/**
 * A file's text, or undefined with a problem naming the key: the file cannot be
 * read, or `refuse` (shown its stat) says why it must not be.
 */
export function readFileFor(path: string, keyPath: string, problems: ConfigProblem[], refuse?: (st: Stats) => string | undefined): string | undefined {
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
export function readSecret(file: string | undefined, keyPath: string, envName: string, r: Reading): string | undefined {
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

export function hideSecret<T extends object>(obj: T, key: string, value: string | readonly string[] | undefined): void {
  if (value === undefined) return
  Object.defineProperty(obj, key, { value, enumerable: false, writable: false, configurable: false })
}

export function envNameFor(webhookName: string, what: 'SECRET' | 'ROUTING_KEY'): string {
  return `HA_AGENT_WEBHOOK_${webhookName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`
}

/** A webhook's secrets and routing key, hidden in it (format exec signs nothing). */
export function readWebhookSecretsInto(w: ParsedConfig['webhooks'][number], i: number, reading: Reading): void {
  if (w.format !== 'exec') hideSecret(w, 'secrets', readWebhookSecrets(w.secret_file, `webhooks[${i}].secret_file`, envNameFor(w.name, 'SECRET'), reading))
  hideSecret(w, 'routingKey', readSecret(w.routing_key_file, `webhooks[${i}].routing_key_file`, envNameFor(w.name, 'ROUTING_KEY'), reading))
}

/** The pair's and the API's tokens, the peers' CA and the API's certificate and key, hidden in cluster and api. */
export function readAccessSecretsInto(cluster: ParsedConfig['cluster'], api: ParsedConfig['api'], reading: Reading): void {
  const { problems } = reading
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
}
