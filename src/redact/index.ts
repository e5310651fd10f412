// The one place that decides what of a URL may be shown. Everything that prints,
// logs or serves a URL (config check, logs, errors, /status, `ha-agent status`,
// metric labels) goes through these. A base module, below config/: the logger
// uses it as config/ does (config/redact.ts, the whole config made printable).

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', postgres: '5432', postgresql: '5432' }

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

function endpoint(u: URL): string {
  const scheme = u.protocol.replace(/:$/, '')
  const port = u.port || DEFAULT_PORTS[scheme] || ''
  return `${scheme}://${u.hostname}${port ? `:${port}` : ''}`
}

/**
 * A URL reduced to `scheme://host:port`, nothing else: a webhook or peer URL may
 * carry a token in its user-info, path (Slack's hook paths) or query (`?token=`).
 * Used for metric labels, where nothing may vary but the endpoint.
 */
export function urlLabel(url: string): string {
  const u = parseUrl(url)
  return u ? endpoint(u) : 'invalid-url'
}

/**
 * A webhook or peer URL as printed: `scheme://host:port`, plus `/…` when a path,
 * query, fragment or user-info was left out, so that the reader knows there is
 * more in the config than what is shown.
 */
export function redactUrl(url: string): string {
  const u = parseUrl(url)
  if (!u) return 'invalid-url'
  const more = (u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== ''
  return endpoint(u) + (more ? '/…' : '')
}

/** Query parameters of a connection URL whose value is a secret (libpq's password, sslpassword; tokens, keys). */
const SECRET_PARAM = /pass|pwd|secret|token|auth|credential|signature|api[-_]?key|access[-_]?key|private[-_]?key/i

/**
 * A PostgreSQL URL with every password-like part masked: `user:***@`, and
 * `***` for the value of `password=`, `sslpassword=` and any parameter named
 * like a secret. Host, port, database and the other parameters stay: they are
 * what an operator checks. Works on the text (libpq URLs are not all WHATWG URLs).
 */
export function maskPostgresUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url)
  if (!m) return 'invalid-url'
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string]
  // user-info ends at the last @ of the authority (a password may hold an unescaped @)
  const at = authority.lastIndexOf('@')
  let shownAuthority = authority
  if (at >= 0) {
    const userinfo = authority.slice(0, at)
    const colon = userinfo.indexOf(':')
    shownAuthority = (colon >= 0 ? `${userinfo.slice(0, colon)}:***` : userinfo) + authority.slice(at)
  }
  const q = rest.indexOf('?')
  if (q < 0) return scheme + shownAuthority + rest
  const hash = rest.indexOf('#', q)
  const query = rest.slice(q + 1, hash < 0 ? undefined : hash)
  const masked = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const name = decodeSafe(eq < 0 ? pair : pair.slice(0, eq))
      return eq >= 0 && SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=***` : pair
    })
    .join('&')
  return scheme + shownAuthority + rest.slice(0, q + 1) + masked + (hash < 0 ? '' : '#…')
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return s
  }
}
