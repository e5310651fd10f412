// One entry of `webhooks:`: its keys by format (standard, slack, pagerduty,
// alertmanager, exec), the keys each format refuses, and Alertmanager's labels.
// Every object is strict, as in schema.ts.
import { z } from 'zod'
import { EVENT_TYPES } from '../events/index.js'
import { command, DAY, duration, timerMs } from './schema-values.js'

/** format alertmanager: how often firing alerts are sent again (resend_interval's default) */
export const DEFAULT_RESEND_INTERVAL_MS = 60_000

/** The labels format alertmanager sets itself (webhooks/alertmanager-alerts.ts); a webhook's `labels` cannot replace them. */
export const RESERVED_LABELS = ['alertname', 'node', 'vrrp_instance', 'severity', 'check', 'webhook', 'test_id'] as const

/** Label names as Prometheus and Alertmanager take them; `__` is theirs. */
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export const webhookSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -').max(100, 'at most 100 characters'),
    /** every format but exec */
    url: z.url({ protocol: /^https?$/ }).optional(),
    format: z.enum(['standard', 'slack', 'pagerduty', 'alertmanager', 'exec']).default('standard'),
    /** whsec_<base64> secret(s); several sign each request once per secret (key rotation) */
    secret_file: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** format exec: the command run for each event (argv, no shell) */
    command: command.optional(),
    timeout_ms: timerMs.default(5000),
    /** retried until then, then dead-lettered */
    max_age: duration(365 * DAY, '365d').default(DAY),
    /** event types to send; all when omitted (a misspelt type would silently send nothing: refused) */
    events: z.array(z.enum(EVENT_TYPES, { error: (i) => `unknown event type ${JSON.stringify(i.input)}: one of ${EVENT_TYPES.join(', ')}` })).optional(),
    /** PagerDuty Events v2 routing key file (format pagerduty) */
    routing_key_file: z.string().min(1).optional(),
    /** format alertmanager: firing alerts are sent again this often (default 1m), each ending 4 intervals later unless sent again */
    resend_interval: duration(3_600_000, '1h')
      .refine((ms) => ms >= 1000, 'must be at least 1s (Alertmanager is sent every firing alert this often)')
      .optional(),
    /** format alertmanager: labels added to every alert (e.g. the pair's name, a team), for routing */
    labels: z.record(z.string(), z.string().min(1, 'must not be empty (Alertmanager drops empty labels)')).optional(),
  })
  .superRefine((w, ctx) => {
    const issue = (key: string | Array<string>, message: string) => ctx.addIssue({ code: 'custom', path: Array.isArray(key) ? key : [key], message })
    if (w.format === 'exec') {
      if (!w.command) issue('command', 'required for format exec: the program and its arguments, e.g. ["/usr/local/bin/on-failover", "--quiet"]')
      if (w.url !== undefined) issue('url', 'not used by format exec (it runs `command`)')
      if (w.secret_file !== undefined) issue('secret_file', 'not used by format exec (nothing is signed)')
      if (w.routing_key_file !== undefined) issue('routing_key_file', 'only for format pagerduty')
    } else {
      if (w.url === undefined) issue('url', `required for format ${w.format}`)
      if (w.command !== undefined) issue('command', 'only for format exec')
    }
    if (w.format !== 'alertmanager') {
      for (const key of ['resend_interval', 'labels'] as const) {
        if (w[key] !== undefined) issue(key, `only for format alertmanager (this webhook is format ${w.format})`)
      }
    } else {
      if (w.secret_file !== undefined) issue('secret_file', 'not used by format alertmanager (Alertmanager checks no signature; put basic auth in the url)')
      if (w.routing_key_file !== undefined) issue('routing_key_file', 'only for format pagerduty')
    }
    for (const name of Object.keys(w.labels ?? {})) {
      if (!labelName.test(name)) issue(['labels', name], 'a label name is letters, digits and _, not starting with a digit')
      else if (name.startsWith('__')) issue(['labels', name], 'names starting with __ are reserved by Prometheus and Alertmanager')
      else if ((RESERVED_LABELS as readonly string[]).includes(name)) issue(['labels', name], `ha-agent sets this label itself (${RESERVED_LABELS.join(', ')})`)
    }
  })
