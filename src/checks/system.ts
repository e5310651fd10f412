import { networkInterfaces } from 'node:os'
import { readFile } from 'node:fs/promises'
import type { AgentConfig } from '../config/index.js'
import type { Finding } from './deadline.js'

type SystemCheckConfig = NonNullable<AgentConfig['checks']['system']>

const IFF_UP = 0x1
const COUNTERS = ['rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped'] as const

/** One sysfs attribute of the interface, trimmed; undefined when it cannot be read. */
const sysfs = (iface: string, file: string) =>
  readFile(`/sys/class/net/${iface}/${file}`, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  )

/**
 * The link state straight from sysfs, as `ip link` reports it: a few small reads,
 * no process. (systeminformation's networkStats() ran a shell and several `cat`s
 * for the same files every round; its networkInterfaces() ran execSync per
 * interface and stalled the event loop for 60-140 ms.) Note that /sys/class/net
 * shows the network namespace sysfs was mounted in, as `ip netns exec` arranges.
 */
async function linkState(iface: string) {
  const [flags, operstate, carrier, ...counters] = await Promise.all([
    sysfs(iface, 'flags'),
    sysfs(iface, 'operstate'),
    // EINVAL while the interface is administratively down: undefined then
    sysfs(iface, 'carrier'),
    ...COUNTERS.map((c) => sysfs(iface, `statistics/${c}`)),
  ])
  if (flags === undefined) return undefined
  const errors: Record<string, number> = {}
  COUNTERS.forEach((c, i) => {
    if (counters[i] !== undefined) errors[c] = Number(counters[i])
  })
  return { adminUp: (Number(flags) & IFF_UP) !== 0, operstate: operstate ?? 'unknown', carrier: carrier === undefined ? undefined : carrier === '1', errors }
}

/** The VRRP interface is up; which VIPs this host holds is reported, never a failure. */
export async function probeSystem(cfg: SystemCheckConfig): Promise<Finding> {
  // getifaddrs(3): no process, no blocking
  const addresses = networkInterfaces()
  const held = cfg.vips.filter((vip) =>
    Object.values(addresses).some((list) => list?.some((a) => a.address === vip.replace(/\/\d+$/, ''))),
  )
  const data: Record<string, unknown> = { vips_held: held }
  let detail = held.length ? `holds ${held.join(', ')}` : 'holds no VIP'
  if (cfg.interface) {
    const iface = cfg.interface
    data.interface = iface
    const link = iface.includes('/') || iface === '.' || iface === '..' ? undefined : await linkState(iface)
    if (!link) {
      data.operstate = 'missing'
      return { ok: false, detail: `interface ${iface} is missing; ${detail}`, data }
    }
    data.operstate = link.operstate
    if (link.carrier !== undefined) data.carrier = link.carrier
    if (Object.keys(link.errors).length) data.link_errors = link.errors
    // Drivers without carrier detection (loopback, dummy, some tunnels) say
    // "unknown"; like `ip link`, such an interface counts as up when IFF_UP is set.
    const up = link.operstate === 'up' || (link.operstate === 'unknown' && link.adminUp)
    if (!up) return { ok: false, detail: `interface ${iface} is ${link.operstate}; ${detail}`, data }
    detail = `interface ${iface} up; ${detail}`
  }
  return { ok: true, detail, data }
}
