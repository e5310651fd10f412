export {
  loadConfig,
  buildConfig,
  resolveConfigPath,
  formatPath,
  DEFAULT_CONFIG_PATH,
  type AgentConfig,
  type WebhookConfig,
  type HttpWebhookConfig,
  type ExecWebhookConfig,
  type PostgresCheckConfig,
  type PgbouncerCheckConfig,
  type ClusterConfig,
  type ApiConfig,
  type LoadOptions,
} from './load.js'
export { redactedConfig } from './redact.js'
export { redactUrl, urlLabel, maskPostgresUrl } from '../redact/index.js'
export { parseDuration, parseBytes } from './units.js'
export { readConfigDocument } from './load.js'
export { envNameFor } from './secret-files.js'
export { isLoopbackHost } from './key-checks.js'
export { secretProblem, secretKey, SECRET_PREFIX, MAKE_SECRET } from './webhook-secret.js'
export type { RawConfig } from './schema.js'
export { DEFAULT_RESEND_INTERVAL_MS, RESERVED_LABELS } from './webhook-schema.js'
export { splitHostPort } from './host-port.js'
