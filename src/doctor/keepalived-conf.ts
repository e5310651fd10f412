// keepalived.conf against the agent's config: the fault track_file (weight 0:
// FAULT, not a priority drop), the yield track file, the vrrp_script that runs
// `ha-agent check` (its timeout above what check may take), and how transitions
// reach the agent (a notify calling `ha-agent notify`, or the notify FIFO the
// daemon reads). Pure: the parsed file and the config in, findings out.
import { resolve } from 'node:path'
import type { AgentConfig } from '../config/index.js'
import { at, error, ok, warning, type Finding } from './finding.js'
import { callsHaAgent, checkTimeoutArg, notifiesOf, trackedFiles, trackedScripts, type KaInstance, type KaModel, type KaTrackFile } from './keepalived-model.js'
import { masterDownMs, PROMISED_SKEW_MS, SHIPPED_YIELD_WEIGHT, skewMs } from './keepalived-timing.js'

/** `ha-agent check` answers within --timeout plus this (contract section 1). */
export const CHECK_OVERRUN_MS = 200

type PeerPriority = (instance: string) => number | undefined

const same = (a: string, b: string) => resolve(a) === resolve(b)
const where = (m: KaModel, i?: KaInstance) => (i ? at(i.node) : m.globalDefs ? at(m.globalDefs) : 'keepalived.conf')

/** The yield track file's path (keepalived.yield_file), when this config has that key. */
export function yieldFile(config: AgentConfig): string | null | undefined {
  return (config.keepalived as { yield_file?: string | null } | undefined)?.yield_file
}

function trackFileFindings(m: KaModel, file: string, name: 'track_file' | 'yield_file', i: KaInstance, block: KaTrackFile | undefined, peerPriority: number | undefined): Finding[] {
  const check = `keepalived.${name}`
  if (!block) return []
  const ref = trackedFiles(i).find((r) => r.name === block.name)
  if (!ref) {
    return [error(check, at(i.node), `vrrp_instance ${i.name} does not track ${block.name} (${file}): ${name === 'track_file' ? "the agent's faults never reach keepalived" : 'switchover cannot lower this node'}`, `add \`${block.name} weight ${name === 'track_file' ? 0 : SHIPPED_YIELD_WEIGHT}\` to the track_file block of vrrp_instance ${i.name}`)]
  }
  const weight = ref.weight ?? block.weight
  const wAt = at(ref.weight !== undefined ? ref.node : block.node)
  if (ref.reverse) return [error(check, at(ref.node), `${block.name} is tracked with reverse: a 0 in the file counts as the fault`, `remove reverse`)]
  if (name === 'track_file') {
    if (weight === 0) return [ok(check, at(ref.node), `vrrp_instance ${i.name} tracks ${file} with weight 0: a fault is FAULT at once`)]
    const advert = (i.advertInt ?? 1) * 1000
    // the peer takes over: its skew counts (this node's priority when the peer's is not known)
    const prio = peerPriority ?? i.priority ?? 100
    const cost = `the peer then waits the master-down interval (${Math.round(masterDownMs(advert, prio))} ms) instead of its skew time (${skewMs(advert, prio).toFixed(1)} ms)`
    const what = weight > 0 ? `a fault adds ${weight} to the priority (it keeps the VIP)` : `a fault lowers the priority by ${-weight} instead of FAULT: ${cost}`
    return [error(check, wAt, `${block.name} has weight ${weight}${ref.weight === undefined && block.weight === 1 ? " (keepalived's default)" : ''}: ${what}`, `write \`${block.name} weight 0\` in vrrp_instance ${i.name}'s track_file block`)]
  }
  // The yield file: a priority drop that must take this node below its peer.
  if (weight >= 0) return [error(check, wAt, `${block.name} has weight ${weight}: writing 1 to ${file} does not lower the priority`, `write \`${block.name} weight ${SHIPPED_YIELD_WEIGHT}\``)]
  if (i.priority !== undefined && peerPriority !== undefined) {
    // the weight that fits: just below the peer
    const fit = peerPriority - i.priority - 1
    if (weight > fit) {
      return [error(check, wAt, `${block.name} lowers ${i.name} from ${i.priority} to ${i.priority + weight}, not below the peer's ${peerPriority}: a yielding node still wins`, `a weight below ${fit + 1} (e.g. ${fit}: no lower than needed, the skew time of a yielding target grows with it)`)]
    }
    // Lower than needed works, but a switchover back (or `maintenance off`) hands
    // the VIP to this node, which takes it after its own skew time: no node
    // answers for the VIP meanwhile, and a client SYN sent then is resent after 1 s.
    // Said only where the weight that fits would keep the promise (a slow
    // advert_int is keepalived.advert_int's finding, whatever the weight).
    const advert = (i.advertInt ?? 1) * 1000
    const yielding = i.priority + weight
    const skew = skewMs(advert, yielding)
    if (weight < fit && skew > PROMISED_SKEW_MS && skewMs(advert, i.priority + fit) <= PROMISED_SKEW_MS) {
      return [warning(check, wAt, `${block.name} weight ${weight} takes ${i.name} to ${yielding}: a switchover back to this node waits its skew time, ${skew.toFixed(1)} ms, with no node answering for the VIP (client SYNs sent then are resent after 1 s)`, `weight ${fit}: just below the peer, no lower`)]
    }
  }
  return [ok(check, wAt, `${i.name} yields through ${file} (weight ${weight})`)]
}

function trackFileChecks(m: KaModel, config: AgentConfig, peer: PeerPriority): Finding[] {
  const out: Finding[] = []
  const files: Array<[string | null | undefined, 'track_file' | 'yield_file']> = [[config.keepalived?.track_file, 'track_file'], [yieldFile(config), 'yield_file']]
  for (const [file, name] of files) {
    if (!file) {
      if (name === 'track_file') out.push(warning('keepalived.track_file', config.configPath ?? 'config', 'keepalived.track_file is not set: HAProxy dying moves the VIP only through the vrrp_script, seconds later', 'set keepalived.track_file: /run/ha-agent/fault and track it with weight 0'))
      continue
    }
    const block = m.trackFiles.find((b) => b.file && same(b.file, file))
    if (!block) {
      const other = m.trackFiles.find((b) => /ha.?agent/i.test(b.name) && (name === 'track_file' ? !/yield/i.test(b.name) : /yield/i.test(b.name)))
      out.push(
        error(
          `keepalived.${name}`,
          other ? at(other.node) : where(m),
          other ? `track_file ${other.name} watches ${other.file ?? '(no file)'}, but the agent writes ${file} (keepalived.${name})` : `no track_file block watches ${file} (keepalived.${name})`,
          other ? `make the two paths the same: file "${file}" here, or keepalived.${name}: ${other.file} in ${config.configPath ?? 'the config'}` : `add track_file ${name === 'track_file' ? 'ha_agent_fault' : 'ha_agent_yield'} { file "${file}" init_file 0 } and track it in each vrrp_instance`,
        ),
      )
      continue
    }
    for (const i of m.instances) out.push(...trackFileFindings(m, file, name, i, block, peer(i.name)))
  }
  return out
}

function scriptChecks(m: KaModel, config: AgentConfig, peer: PeerPriority): Finding[] {
  const out: Finding[] = []
  const scripts = m.scripts.filter((s) => callsHaAgent(s.argv, 'check'))
  if (!scripts.length) {
    return [error('keepalived.vrrp_script', where(m), 'no vrrp_script runs `ha-agent check`: the deep checks never reach keepalived (and with no daemon, nothing keeps the track_file)', 'add vrrp_script chk_ha_agent { script "/usr/bin/ha-agent check --timeout 1500" interval 1 timeout 2 fall 2 rise 2 weight -10 } and track it')]
  }
  for (const s of scripts) {
    const tracking = m.instances.filter((i) => trackedScripts(i).some((r) => r.name === s.name))
    if (!tracking.length) out.push(error('keepalived.vrrp_script', at(s.node), `vrrp_script ${s.name} is tracked by no vrrp_instance: keepalived never runs it`, `add ${s.name} to the track_script block of each vrrp_instance`))
    const checkMs = checkTimeoutArg(s.argv) ?? config.checks.timeout_ms
    const budget = checkMs + CHECK_OVERRUN_MS
    const seconds = s.timeout ?? s.interval ?? 1
    const how = s.timeout !== undefined ? `timeout ${s.timeout} s` : `no timeout (keepalived then uses the interval, ${seconds} s)`
    if (seconds * 1000 <= budget) {
      out.push(error('keepalived.vrrp_script', at(s.node), `vrrp_script ${s.name}: ${how}, but \`ha-agent check\` may take ${checkMs} ms (--timeout${checkTimeoutArg(s.argv) ? '' : ', from checks.timeout_ms'}) + ${CHECK_OVERRUN_MS} ms: keepalived kills it first and counts a failure`, `timeout ${Math.floor(budget / 1000) + 1} (keepalived's timeout is whole seconds), or a smaller --timeout`))
    } else out.push(ok('keepalived.vrrp_script', at(s.node), `vrrp_script ${s.name} runs ha-agent check (--timeout ${checkMs} ms) with ${how}, interval ${s.interval ?? 1} s`))
    for (const i of tracking) {
      const peerPriority = peer(i.name)
      const ref = trackedScripts(i).find((r) => r.name === s.name)!
      const weight = ref.weight ?? s.weight
      const wAt = at(ref.weight !== undefined ? ref.node : s.node)
      if (weight === 0) out.push(error('keepalived.vrrp_script', wAt, `vrrp_script ${s.name} has weight 0${ref.weight === undefined && !s.node.children?.some((c) => c.keyword === 'weight') ? " (keepalived's default)" : ''} in ${i.name}: a failing deep check is a FAULT, so a database outage both nodes share takes the VIP off both`, 'weight -10 (the deep checks lower the priority; the track_file is the FAULT path)'))
      else if (i.priority !== undefined && peerPriority !== undefined && Math.abs(weight) <= Math.abs(i.priority - peerPriority)) {
        out.push(warning('keepalived.vrrp_script', wAt, `vrrp_script ${s.name} weight ${weight} is no more than the priority difference (${i.priority} here, ${peerPriority} on the peer): a deep check failing on the master does not move the VIP`, `a weight larger than ${Math.abs(i.priority - peerPriority)} (e.g. -10)`))
      }
    }
  }
  return out
}

function notifyChecks(m: KaModel, config: AgentConfig): Finding[] {
  const out: Finding[] = []
  const daemonFifo = config.keepalived?.notify_fifo ?? null
  const fifo = m.fifos.find((f) => daemonFifo && same(f.path, daemonFifo))
  const cfgWhere = config.configPath ?? 'config'
  if (daemonFifo && !fifo) {
    out.push(error('keepalived.notify', m.fifos[0] ? at(m.fifos[0].node) : where(m), `the daemon reads transitions from ${daemonFifo} (keepalived.notify_fifo), but keepalived ${m.fifos.length ? `writes them to ${m.fifos.map((f) => f.path).join(', ')}` : 'writes to no notify FIFO'}`, `vrrp_notify_fifo ${daemonFifo} in global_defs`))
  }
  for (const f of m.fifos) {
    if (!daemonFifo || !same(f.path, daemonFifo)) {
      const scripts = m.instances.every((i) => notifiesOf(i).some((n) => callsHaAgent(n.argv, 'notify')))
      const say = `keepalived writes transitions to ${f.path}, which the daemon does not read (keepalived.notify_fifo: ${daemonFifo ?? 'null'})`
      if (scripts) out.push(warning('keepalived.notify', at(f.node), say, `remove ${f.node.keyword}, or set keepalived.notify_fifo: ${f.path} in ${cfgWhere} and drop the notify scripts`))
      else out.push(error('keepalived.notify', at(f.node), `${say}: transitions are not reported`, `keepalived.notify_fifo: ${f.path} in ${cfgWhere}`))
    }
  }
  for (const i of m.instances) {
    const ours = notifiesOf(i).filter((n) => callsHaAgent(n.argv, 'notify'))
    if (fifo) {
      if (ours.length) out.push(warning('keepalived.notify', at(ours[0]!.node), `${i.name} reports transitions both through ${ours[0]!.kind} and the notify FIFO: each is recorded twice`, `remove ${ours.map((n) => n.kind).join(', ')} (the FIFO keeps keepalived's order without a process per transition)`))
      else out.push(ok('keepalived.notify', at(fifo.node), `${i.name} reports transitions through the notify FIFO ${fifo.path}, which the daemon reads`))
      continue
    }
    if (!ours.length) {
      const other = notifiesOf(i)[0]
      out.push(error('keepalived.notify', at(other?.node ?? i.node), `vrrp_instance ${i.name}: no notify calls \`ha-agent notify\`${other ? ` (${other.kind} runs ${other.argv[0]})` : ''} and no notify FIFO goes to the daemon: transitions are not reported`, `notify "/usr/bin/ha-agent notify" in vrrp_instance ${i.name} (or vrrp_notify_fifo with keepalived.notify_fifo)`))
      continue
    }
    const generic = ours.find((n) => n.kind === 'notify')
    if (generic) {
      const extra = generic.argv.slice(generic.argv.indexOf('notify', 1) + 1)
      if (extra.length) out.push(error('keepalived.notify', at(generic.node), `notify passes ${extra.join(' ')} after \`ha-agent notify\`: keepalived appends INSTANCE NAME STATE PRIORITY itself`, 'notify "/usr/bin/ha-agent notify"'))
      else out.push(ok('keepalived.notify', at(generic.node), `${i.name} reports every transition to ha-agent notify`))
      continue
    }
    const missing = (['notify_master', 'notify_backup', 'notify_fault', 'notify_stop'] as const).filter((k) => !ours.some((n) => n.kind === k))
    if (missing.length) out.push(warning('keepalived.notify', at(ours[0]!.node), `${i.name} calls ha-agent notify for ${ours.map((n) => n.kind).join(', ')} only: ${missing.join(', ')} transitions go unreported`, `add ${missing.map((k) => `${k} "/usr/bin/ha-agent notify ${k.slice(7)}"`).join(', ')}, or one notify "/usr/bin/ha-agent notify"`))
    else out.push(ok('keepalived.notify', at(ours[0]!.node), `${i.name} reports every transition to ha-agent notify`))
  }
  return out
}

export function checkKeepalivedConf(m: KaModel, config: AgentConfig, opts: { peerPriority?: (instance: string) => number | undefined } = {}): Finding[] {
  if (!m.instances.length) return [error('keepalived.instances', where(m), 'no vrrp_instance: keepalived holds no VIP with this file', 'add the vrrp_instance of keepalived/keepalived.conf')]
  const peer: PeerPriority = opts.peerPriority ?? (() => undefined)
  return [...trackFileChecks(m, config, peer), ...scriptChecks(m, config, peer), ...notifyChecks(m, config)]
}
