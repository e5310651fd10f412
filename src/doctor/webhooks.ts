// Each webhook asked something that delivers no event, within its own
// timeout_ms: a HEAD of its URL for standard, slack and pagerduty. HEAD is
// safe by HTTP's definition (RFC 9110: no state change is asked, no body
// sent), so a real receiver (Slack, PagerDuty, a Standard Webhooks verifier)
// treats it as nothing: it answers 404 or 405 or 200, which proves the name
// resolves, the port takes a connection, TLS verifies and an HTTP server
// answers. A POST, even an unsigned or empty one, is an event to a receiver that
// does not verify. Alertmanager: GET {url}/api/v2/status, its own health
// endpoint. exec: the program is there and the ha-agent user may run it. Only
// `scheme://host:port/…` of a URL is ever printed (src/redact).
import { statSync } from 'node:fs'
import type { AgentConfig, WebhookConfig } from '../config/index.js'
import { describeSystemError, hasCode } from '../errors/index.js'
import { httpCall } from '../http/index.js'
import { redactUrl } from '../redact/index.js'
import { alertsUrl } from '../webhooks/index.js'
import { mayAccess, type Ids, type StatFn } from './access.js'
import { error, ok, warning, type Finding } from './finding.js'

export interface WebhookFacts {
  daemonUser: Ids | undefined
  stat?: StatFn
  names?: (uid: number, gid: number) => string
  /** the CA the webhook requests verify against: Node's bundled CAs unless set (tests) */
  ca?: string
}

/** Alertmanager's status endpoint under the same prefix as the alerts it is sent. */
export function statusUrl(url: string): string {
  const u = new URL(alertsUrl(url))
  u.pathname = u.pathname.replace(/\/api\/v2\/alerts\/?$/, '/api/v2/status')
  return u.toString()
}

/** Why a request got no answer, for people: DNS, TCP, TLS or the deadline. */
export function whyNoAnswer(err: unknown, timeoutMs: number): string {
  if (hasCode(err, 'HA_ERR_TIMEOUT')) return `no answer within its timeout_ms (${timeoutMs} ms)`
  const e = err as NodeJS.ErrnoException
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `the host name does not resolve (${e.code})`
  if (e.code === 'ECONNREFUSED') return 'connection refused: nothing listens on that port'
  if (e.code && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME|ALTNAME/.test(e.code)) return `TLS: ${e.message} (${e.code})`
  return describeSystemError(err)
}

async function httpWebhook(w: WebhookConfig & { url: string }, facts: WebhookFacts): Promise<Finding> {
  const check = 'webhooks.reach'
  const where = `webhook ${w.name} (${redactUrl(w.url)})`
  const am = w.format === 'alertmanager'
  const target = am ? statusUrl(w.url) : w.url
  const method = am ? 'GET' : 'HEAD'
  let status: number
  try {
    status = (await httpCall(target, { method, timeoutMs: w.timeout_ms, ...(facts.ca !== undefined ? { ca: facts.ca } : {}), maxBodyBytes: 64 * 1024 })).status
  } catch (err) {
    return error(check, where, `${method} ${am ? '/api/v2/status ' : ''}got no answer: ${whyNoAnswer(err, w.timeout_ms)}`, 'check the URL, the receiver, and the route and firewall from this host')
  }
  if (am) {
    if (status === 200) return ok(check, where, 'Alertmanager answers GET /api/v2/status with 200')
    return error(check, where, `GET /api/v2/status answered ${status}: not an Alertmanager at this URL (or it is failing)`, 'url: the Alertmanager base URL (with its --web.route-prefix, without /api/v2/alerts)')
  }
  if (status >= 500) return warning(check, where, `HEAD answered ${status}: the receiver is there but failing`, "look at the receiver's logs")
  return ok(check, where, `the receiver answers (HEAD ${status}; a HEAD delivers no event)`)
}

function execWebhook(w: WebhookConfig & { command: readonly string[] }, facts: WebhookFacts): Finding {
  const program = w.command[0]!
  const where = `webhook ${w.name} (exec ${program})`
  const stat = facts.stat ?? statSync
  let isFile = false
  try {
    isFile = stat(program).isFile()
  } catch (err) {
    return error('webhooks.exec', where, `${program}: ${describeSystemError(err)}`, 'install the program, or fix command[0]')
  }
  if (!isFile) return error('webhooks.exec', where, `${program} is not a regular file`, 'command[0] names the program itself')
  if (!facts.daemonUser) return warning('webhooks.exec', where, `${program} is there; who runs it is not known (no ha-agent user, no daemon)`, 'install the package, which creates the ha-agent user')
  const a = mayAccess(program, facts.daemonUser, 'x', stat, facts.names)
  if (!a.ok) return error('webhooks.exec', where, `${facts.daemonUser.name} cannot run it: ${a.why}`, `chmod a+x ${program} (and a+x on its directories)`)
  return ok('webhooks.exec', where, `${program} is there and ${facts.daemonUser.name} may run it`)
}

export async function checkWebhooks(config: AgentConfig, facts: WebhookFacts): Promise<Finding[]> {
  if (!config.webhooks.length) return [warning('webhooks.reach', config.configPath ?? 'config', 'no webhooks: transitions are recorded but sent nowhere', 'add a webhook (webhooks: in the config)')]
  return Promise.all(config.webhooks.map((w) => (w.format === 'exec' ? Promise.resolve(execWebhook(w, facts)) : httpWebhook(w, facts))))
}
