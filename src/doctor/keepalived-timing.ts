// Priorities and adverts against what the README promises ("How it fits
// keepalived"): after a FAULT the backup takes over within its skew time,
// (256 - priority) / 256 × advert_int (3 ms at priority 249 and advert_int 0.1),
// and a node that vanishes is replaced after the master-down interval,
// 3 × advert_int + skew (about 0.3 s). Also: the two nodes' priorities differ,
// VRRPv3 for a sub-second advert, and weights that keep the priority in
// keepalived's [1, 254] (outside it keepalived clamps, and differences vanish).
import { at, ok, warning, type Finding } from './finding.js'
import { trackedFiles, trackedScripts, type KaInstance, type KaModel } from './keepalived-model.js'

/** The shipped `ha_agent_yield` weight: just below a peer one lower (250/249), no lower (a yielding target's skew time grows with it). */
export const SHIPPED_YIELD_WEIGHT = -2

/** The README's figures, with room: a hand-over after FAULT within this skew ... */
export const PROMISED_SKEW_MS = 10
/** ... and a vanished node replaced within this master-down interval. */
export const PROMISED_MASTER_DOWN_MS = 400

/** keepalived's defaults: priority 100, advert_int 1 s. */
const DEFAULT_PRIORITY = 100
const DEFAULT_ADVERT_MS = 1000

export const skewMs = (advertMs: number, priority: number) => ((256 - priority) / 256) * advertMs
export const masterDownMs = (advertMs: number, priority: number) => 3 * advertMs + skewMs(advertMs, priority)

/** The weights an instance's tracked files and scripts apply (weight 0 ones are FAULTs, not weights). */
function weights(m: KaModel, i: KaInstance): number[] {
  const files = trackedFiles(i).map((r) => r.weight ?? m.trackFiles.find((b) => b.name === r.name)?.weight ?? 1)
  const scripts = trackedScripts(i).map((r) => r.weight ?? m.scripts.find((s) => s.name === r.name)?.weight ?? 0)
  return [...files, ...scripts].filter((w) => w !== 0)
}

export function checkTiming(m: KaModel, opts: { peerPriority?: (instance: string) => number | undefined } = {}): Finding[] {
  const out: Finding[] = []
  for (const i of m.instances) {
    const peer = opts.peerPriority?.(i.name)
    const pNode = i.node.children?.find((c) => c.keyword === 'priority')
    if (pNode && i.priority === undefined) {
      out.push(warning('keepalived.priority', at(pNode), `priority ${pNode.args[0] ?? ''} is not a number: keepalived uses ${DEFAULT_PRIORITY}`, 'priority 250 on the preferred master, 249 on the other'))
    }
    const prio = i.priority ?? DEFAULT_PRIORITY
    const pAt = at(i.priorityNode ?? i.node)
    if (!pNode) out.push(warning('keepalived.priority', at(i.node), `${i.name} has no priority: keepalived uses ${DEFAULT_PRIORITY}, and the skew time grows with 256 - priority`, 'priority 250 on the preferred master, 249 on the other'))
    if (prio === 255) out.push(warning('keepalived.priority', pAt, `${i.name} has priority 255 (address owner): no track_script or weight can lower it, and it takes the VIP back at once`, 'priority 250 on the preferred master, 249 on the other'))
    if (peer !== undefined && peer === prio) out.push(warning('keepalived.priority', pAt, `${i.name} has priority ${prio} here and on the peer: the election is decided by IP address, and a deep-check weight that lowers one node no longer tells them apart by what it should`, 'priority 250 on the preferred master, 249 on the other'))

    const advertMs = (i.advertInt ?? DEFAULT_ADVERT_MS / 1000) * 1000
    const aAt = at(i.advertNode ?? i.node)
    const version = i.version ?? 2
    let effectiveAdvert = advertMs
    if (advertMs < 1000 && version !== 3) {
      effectiveAdvert = 1000
      out.push(warning('keepalived.advert_int', aAt, `advert_int ${advertMs / 1000} with VRRP version ${version}: VRRPv2 adverts are whole seconds, keepalived uses 1 s`, 'vrrp_version 3 in global_defs'))
    }
    // The node that takes over after a FAULT is the one with the lower priority: its skew counts.
    const backup = Math.min(prio, peer ?? prio)
    const skew = skewMs(effectiveAdvert, backup)
    const down = masterDownMs(effectiveAdvert, backup)
    const numbers = `advert_int ${effectiveAdvert / 1000} s, backup priority ${backup}${peer === undefined ? ' (this node\'s; the peer\'s is not known)' : ''}: hand-over after a FAULT ${skew.toFixed(1)} ms, a vanished node replaced after ${Math.round(down)} ms`
    if (effectiveAdvert > DEFAULT_ADVERT_MS || skew > PROMISED_SKEW_MS || down > PROMISED_MASTER_DOWN_MS) {
      out.push(warning('keepalived.advert_int', aAt, `${i.name}: ${numbers}; the README promises about 3 ms and 0.3 s`, 'vrrp_version 3, advert_int 0.1, priorities 250/249'))
    } else out.push(ok('keepalived.advert_int', aAt, `${i.name}: ${numbers}`))

    const ws = weights(m, i)
    const max = prio + ws.filter((w) => w > 0).reduce((a, b) => a + b, 0)
    const min = prio + ws.filter((w) => w < 0).reduce((a, b) => a + b, 0)
    if (prio !== 255 && (max > 254 || min < 1)) {
      out.push(warning('keepalived.weights', pAt, `${i.name}: priority ${prio} with weights ${ws.join(', ')} ranges ${min}..${max}, outside keepalived's 1..254: it clamps, and the nodes' difference is lost`, `lower the priority or the weights (250/249 with -10 and ${SHIPPED_YIELD_WEIGHT} fit)`))
    }
  }
  return out
}
