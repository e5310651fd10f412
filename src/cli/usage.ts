// The one source of the CLI's help: `--help` prints it and scripts/gen-man.mjs
// renders ha-agent(1) from it, so the two never disagree.

export interface CommandHelp {
  name: string
  synopsis: string
  summary: string
  /** more for the man page (--help prints the summary only) */
  details?: string
  options?: Array<[flag: string, text: string]>
}

export const PROGRAM = {
  name: 'ha-agent',
  summary: 'deep health checks, durable webhooks and fast failover for HAProxy + keepalived',
  description:
    'ha-agent runs on both HAProxy nodes of a keepalived (VRRP) pair. keepalived calls `ha-agent check` from a ' +
    'vrrp_script and `ha-agent notify` from its notify scripts; the daemon (`ha-agent run`) keeps deep-check ' +
    'verdicts fresh, writes the keepalived track_file for sub-second failover, delivers every transition to ' +
    'webhooks durably, signed and in order, and serves /status and /metrics.',
}

export const GLOBAL_OPTIONS: Array<[string, string]> = [
  ['--config PATH', 'configuration file (else $HA_AGENT_CONFIG, else /etc/ha-agent/config.yaml)'],
  ['--help', 'show this help'],
  ['--version', 'print the version'],
]

export const COMMANDS: CommandHelp[] = [
  { name: 'run', synopsis: 'run', summary: 'run the daemon in the foreground (JSON logs on stdout; SIGTERM stops, SIGHUP reloads the config)' },
  {
    name: 'check',
    synopsis: 'check [--only NAMES] [--json] [--timeout MS]',
    summary: 'deep health verdict for a keepalived vrrp_script: exit 0 healthy, 1 unhealthy',
    options: [
      ['--only NAMES', 'comma list of checks: haproxy,pgbouncer,postgres,system'],
      ['--json', 'print the verdict as JSON'],
      ['--timeout MS', 'answer within MS (+200 ms) whatever hangs; default 1000'],
    ],
  },
  {
    name: 'notify',
    synopsis: 'notify INSTANCE|GROUP NAME STATE [PRIORITY] | notify master|backup|fault|stop [NAME]',
    summary: 'record a keepalived transition durably (exit 0 once fsync\'d); the daemon delivers it to webhooks',
  },
  { name: 'status', synopsis: 'status [--json]', summary: 'what the daemon knows now: node, VRRP state, checks, VIP, maintenance, outbox, peers', options: [['--json', 'print JSON']] },
  {
    name: 'switchover',
    synopsis: 'switchover [--to NODE] [--timeout S] [--force] [--json]',
    summary: 'move the VIP to the peer on purpose, at an idle instant, and print how long it took; from either node',
    details:
      'Refused (exit 1, saying why) unless the target answers, passes every deep check, has HAProxy up and is not in ' +
      'maintenance. The VIP holder waits (at most 500 ms) for an instant when no client session is opening, then hands ' +
      'the VIP over with a FAULT (the peer takes it within its skew time: the gap of a failover) and waits until the ' +
      'target is MASTER and itself BACKUP. The old holder then yields (keepalived.yield_file: priority -2, kept under ' +
      'state_dir, reboots included) so it does not take the VIP back, until it is the target of a switchover. Run on ' +
      'the BACKUP, it asks the VIP holder to hand the VIP to this node. Sends vrrp.switchover.',
    options: [
      ['--to NODE', 'the node to move the VIP to (its `node:` name); default: the peer, or this node when run on the BACKUP'],
      ['--timeout S', 'seconds for the target to become MASTER, else everything is undone (default 10)'],
      ['--force', 'skip the checks of the target'],
      ['--json', 'print the outcome as JSON'],
    ],
  },
  {
    name: 'maintenance',
    synopsis: 'maintenance on [--reason TEXT] [--force] | maintenance off | maintenance status [--json]',
    summary: 'keep this node out of MASTER until `maintenance off`, across restarts, upgrades and reboots',
    details:
      'While on, the track_file says 1: keepalived keeps the node in FAULT, also if the peer fails, and also while the ' +
      'daemon is not running (`ha-agent check` honours it). Stored in state_dir/maintenance.json. On the VIP holder the ' +
      'VIP moves at an idle instant, as a switchover does. `on` is refused unless the peer can serve (--force). `off` on ' +
      'a node that held the VIP gives it back by a switchover (no preemption at a random instant). Shown by status, ' +
      '/status, /health (503) and ha_agent_maintenance; sends agent.maintenance.',
    options: [
      ['--reason TEXT', 'why, shown in status, /status and the agent.maintenance event'],
      ['--force', 'go into maintenance even when the peer cannot serve'],
      ['--json', 'print the outcome as JSON'],
    ],
  },
  {
    name: 'doctor',
    synopsis: 'doctor [--keepalived-conf PATH] [--haproxy-cfg PATH] [--json] [--skip-webhooks]',
    summary:
      'check this host (as root) for what breaks failover: keepalived.conf, haproxy.cfg, the running daemon, the webhooks; ' +
      'one line per finding with its fix. Exit 0: nothing found, 1: a warning, 2: an error (a usage error also exits 2, ' +
      'with the usage on stderr and no finding on stdout; an invalid config 78)',
    options: [
      ['--keepalived-conf PATH', 'default /etc/keepalived/keepalived.conf (and what it includes)'],
      ['--haproxy-cfg PATH', 'default /etc/haproxy/haproxy.cfg'],
      ['--json', 'print {findings: [{severity, check, where, problem, fix}], summary}'],
      ['--skip-webhooks', 'send no request to the webhooks'],
    ],
  },
  {
    name: 'config check',
    synopsis: 'config check [--quiet]',
    summary: 'validate the configuration and print it with secrets redacted (exit 78 when invalid)',
    options: [['--quiet', 'print nothing when valid (systemd ExecReload)']],
  },
  {
    name: 'webhook test',
    synopsis: 'webhook test [--name NAME]',
    summary: 'queue an agent.test event to one or all webhooks and wait up to 10 s for delivery',
    options: [['--name NAME', 'only this webhook']],
  },
  {
    name: 'webhook dead',
    synopsis: 'webhook dead [--name NAME] [--json]',
    summary: 'list dead letters (events given up on): webhook, id, type, age, when it died, attempts, last error',
    options: [
      ['--name NAME', 'only this webhook'],
      ['--json', 'print JSON'],
    ],
  },
  {
    name: 'webhook replay',
    synopsis: 'webhook replay [--name NAME] [ID...]',
    summary: 'put dead letters back in their queue (all, or those IDs), in their original order, with their webhook-id; max_age starts again',
    options: [['--name NAME', 'only this webhook\'s dead letters']],
  },
]

export const EXIT_CODES: Array<[string, string]> = [
  ['0', 'success; healthy'],
  ['1', 'unhealthy, or the operation failed; doctor: a warning'],
  ['2', 'usage error; doctor: an error finding (a usage error prints the usage on stderr and no finding)'],
  ['78', 'configuration invalid or unreadable'],
]

/** Where to look next: the lab's drawn failover timeline is not a command of the agent, but its picture of one. */
export const SEE_ALSO =
  'A failover drawn: `bash lab/demo.sh` (host lab) or `bash lab/demo.sh --booted` (two booted Debian 13 nodes with ' +
  'the .deb) in the source tree kills HAProxy on the master under a client and writes an SVG of both nodes\' ' +
  'keepalived states, ha-agent\'s events (from its log or journal), the webhooks and every client query on one ' +
  'time axis, with the gap marked; `npm run bench` draws its median runs. README: "The lab".'

export function renderHelp(version: string): string {
  const lines = [`${PROGRAM.name} ${version}: ${PROGRAM.summary}`, '', 'Usage:']
  for (const c of COMMANDS) lines.push(`  ${PROGRAM.name} [--config PATH] ${c.synopsis}`)
  lines.push('', 'Commands:')
  for (const c of COMMANDS) {
    lines.push(`  ${c.name.padEnd(14)} ${c.summary}`)
    for (const [flag, text] of c.options ?? []) lines.push(`      ${flag.padEnd(16)} ${text}`)
  }
  lines.push('', 'Global options:')
  for (const [flag, text] of GLOBAL_OPTIONS) lines.push(`  ${flag.padEnd(16)} ${text}`)
  lines.push('', 'Exit codes:')
  for (const [code, text] of EXIT_CODES) lines.push(`  ${code.padEnd(4)} ${text}`)
  lines.push('', 'See also:', `  ${SEE_ALSO}`)
  return lines.join('\n') + '\n'
}
