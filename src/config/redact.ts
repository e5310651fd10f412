// The effective config made printable (`config check`): secrets never appear,
// URLs as src/redact/ shows them.
import { maskPostgresUrl, redactUrl } from '../redact/index.js'
import type { AgentConfig } from './load.js'

/** The effective config as plain data, safe to print: secrets never appear. */
export function redactedConfig(config: AgentConfig): Record<string, unknown> {
  // Secrets live in non-enumerable fields, so a JSON round trip drops them; what
  // is left that may hold one is a URL: masked or reduced here.
  const plain = JSON.parse(JSON.stringify(config)) as Record<string, any>
  delete plain.configPath
  const pg = plain.checks?.postgres
  if (typeof pg?.url === 'string') pg.url = maskPostgresUrl(pg.url)
  if (Array.isArray(plain.webhooks)) {
    for (const w of plain.webhooks) if (typeof w.url === 'string') w.url = redactUrl(w.url)
  }
  if (Array.isArray(plain.peers)) plain.peers = plain.peers.map((p: unknown) => (typeof p === 'string' ? redactUrl(p) : p))
  return plain
}
