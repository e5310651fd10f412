// `ha-agent doctor`: reads the live host (keepalived.conf, haproxy.cfg, the
// running daemon, keepalived's processes, the unit's sandbox, the webhooks)
// against the agent's config, and returns one finding per thing it looked at.
// Gathering (processes, ids, the daemon's answers) is done once here; the checks
// are functions of what was gathered, so each can be tested on texts.
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { AgentConfig } from '../config/index.js'
import { idNamer, lookupUser, runQuiet, type Ids, type StatFn } from './access.js'
import { askDaemon, checkDaemon } from './daemon.js'
import { error, warning, type Finding } from './finding.js'
import { checkHaproxy } from './haproxy-cfg.js'
import { parseHaproxyCfg } from './haproxy-parse.js'
import { checkKeepalivedConf } from './keepalived-conf.js'
import { buildModel, trackedFiles } from './keepalived-model.js'
import { parseKeepalivedConf } from './keepalived-parse.js'
import { checkScriptSecurity } from './keepalived-security.js'
import { checkTiming } from './keepalived-timing.js'
import { idsOfProcess, KEEPALIVED_DEFAULT_CONF, keepalivedProcesses, unitFacts, type UnitFacts } from './processes.js'
import { checkWebhooks } from './webhooks.js'

export { DOCTOR_EXIT, exitCodeFor, formatFindings, summarize, type Finding, type Severity, type Summary } from './finding.js'

/** What doctor reads unless told: the file keepalived reads when its command line names none. */
export { KEEPALIVED_DEFAULT_CONF as DEFAULT_KEEPALIVED_CONF } from './processes.js'
/** The user the package runs the daemon as (deb/postinst, systemd/ha-agent.service), and the HAProxy config it reads unless told. */
export const AGENT_USER = 'ha-agent',
  DEFAULT_HAPROXY_CFG = '/etc/haproxy/haproxy.cfg'

export interface DoctorOptions {
  config: AgentConfig
  /** the config file doctor was given (the daemon is asked whether it runs the same) */
  configPath: string
  keepalivedConf?: string
  haproxyCfg?: string
  skipWebhooks?: boolean
  /** each request to the daemon and HAProxy */
  timeoutMs?: number
  procRoot?: string
  stat?: StatFn
  /** systemd's unit facts: looked up when systemd runs this host, unless given (tests) */
  unit?: UnitFacts | null
}

export async function runDoctor(opts: DoctorOptions): Promise<Finding[]> {
  const { config } = opts
  const timeoutMs = opts.timeoutMs ?? 2000
  const stat = opts.stat ?? statSync
  const names = idNamer()
  const findings: Finding[] = []
  if (process.getuid?.() !== 0) findings.push(warning('doctor.root', 'doctor', `doctor runs as uid ${process.getuid?.()}: it cannot see keepalived's processes, nor read every file it checks`, 'run it as root'))

  // keepalived.conf, parsed once for every family of checks.
  const kaPath = resolve(opts.keepalivedConf ?? KEEPALIVED_DEFAULT_CONF)
  const parsed = parseKeepalivedConf(kaPath)
  for (const p of parsed.problems) findings.push((p.severity === 'error' ? error : warning)('keepalived.parse', p.line ? `${p.file}:${p.line}` : p.file, p.message, p.line ? 'fix it (keepalived.conf(5))' : 'pass --keepalived-conf PATH'))
  const model = buildModel(parsed)

  // Who the daemon runs as (what it really has, when it runs), and who keepalived runs scripts as (one group only).
  const [daemon, unit] = await Promise.all([askDaemon(config, opts.configPath, timeoutMs), opts.unit === undefined ? unitFacts() : Promise.resolve(opts.unit ?? undefined)])
  const daemonUser: Ids | undefined = (daemon.running ? idsOfProcess(daemon.pid, opts.procRoot, names) : undefined) ?? (await lookupUser(unit?.user || AGENT_USER))
  const scriptUserName = model.scriptUser?.user ?? ((await lookupUser('keepalived_script')) ? 'keepalived_script' : 'root')
  const scriptUser = await lookupUser(scriptUserName, { ...(model.scriptUser?.group ? { group: model.scriptUser.group } : {}), supplementary: false })

  // The peer's priorities, from what the daemon last polled, for the priority checks.
  const status = daemon.running ? daemon.status : undefined
  const peerPriority = (instance: string) => status?.peers.flatMap((p) => p.instances ?? []).find((i) => i.name === instance)?.priority ?? undefined

  findings.push(...checkKeepalivedConf(model, config, { peerPriority }))
  findings.push(...checkTiming(model, { peerPriority }))
  findings.push(...checkScriptSecurity(model, config, { scriptUser, scriptUserName, stat, names }))

  const haPath = resolve(opts.haproxyCfg ?? DEFAULT_HAPROXY_CFG)
  let ha
  try {
    ha = parseHaproxyCfg(haPath)
  } catch (err) {
    ha = { file: haPath, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }
  }
  const gidOf = async (group: string) => {
    if (/^\d+$/.test(group)) return Number(group)
    const gid = Number((await runQuiet('getent', ['group', group]))?.split(':')[2])
    return Number.isInteger(gid) ? gid : undefined
  }
  findings.push(...(await checkHaproxy(ha, config, { daemonUser, stat, names, timeoutMs, gidOf })))

  const tracked = [...new Set(model.instances.flatMap((i) => trackedFiles(i).map((r) => model.trackFiles.find((b) => b.name === r.name)?.file).filter((f): f is string => !!f)))]
  findings.push(
    ...checkDaemon(daemon, config, {
      keepalived: keepalivedProcesses(opts.procRoot),
      unit,
      scriptUserName,
      daemonUserName: daemonUser?.name,
      trackedFiles: tracked,
    }),
  )
  if (!opts.skipWebhooks) findings.push(...(await checkWebhooks(config, { daemonUser, stat, names })))
  return findings
}
