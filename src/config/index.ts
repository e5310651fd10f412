export {
  loadConfig,
  buildConfig,
  resolveConfigPath,
  formatPath,
  envNameFor,
  DEFAULT_CONFIG_PATH,
  type AgentConfig,
  type WebhookConfig,
  type PostgresCheckConfig,
  type PgbouncerCheckConfig,
  type ClusterConfig,
  type ApiConfig,
  isLoopbackHost,
  type LoadOptions,
} from './load.js'
export { redactedConfig, redactUrl, urlLabel, maskPostgresUrl } from './redact.js'
export { parseDuration, parseBytes } from './units.js'
export { readConfigDocument } from './load.js'
export type { RawConfig } from './schema.js'
export { splitHostPort } from './host-port.js'
