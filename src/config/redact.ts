import type { AgentConfig } from './load.js'

/** The effective config as plain data, safe to print: secrets never appear. */
export function redactedConfig(config: AgentConfig): Record<string, unknown> {
  // Secrets live in non-enumerable fields, so a JSON round trip drops them;
  // a password typed inline in a URL is masked here.
  const plain = JSON.parse(JSON.stringify(config)) as Record<string, any>
  delete plain.configPath
  const pg = plain.checks?.postgres
  if (pg?.url) pg.url = maskUrlPassword(pg.url)
  if (Array.isArray(plain.webhooks)) {
    for (const w of plain.webhooks) if (typeof w.url === 'string') w.url = maskUrlPassword(w.url)
  }
  if (Array.isArray(plain.peers)) plain.peers = plain.peers.map(maskUrlPassword)
  return plain
}

export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) {
      u.password = '***'
      return u.toString()
    }
  } catch {
    // not a URL: leave as is
  }
  return url
}
