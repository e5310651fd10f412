import { networkInterfaces } from 'node:os'
import type { AgentConfig } from '../config/index.js'
import { readQuietly } from '../fs/read.js'
import type { Finding } from './deadline.js'

type SystemCheckConfig = NonNullable<AgentConfig['checks']['system']>

const IFF_UP = 0x1

/** The interface's error and drop counters from /proc/net/dev (one read for all four). */
function linkErrors(iface: string): Record<string, number> | undefined {
  const line = readQuietly('/proc/net/dev')
    ?.split('\n')
    .find((l) => l.trimStart().startsWith(`${iface}:`))
  if (!line) return undefined
  // bytes packets errs drop fifo frame compressed multicast | bytes packets errs drop ...
  const f = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number)
  return { rx_errors: f[2]!, rx_dropped: f[3]!, tx_errors: f[10]!, tx_dropped: f[11]! }
}

/**
 * The link state as `ip link` reports it, straight from the kernel: three small
 * reads, no process (systeminformation's networkStats() ran a shell and six
 * `cat`s every round; its networkInterfaces() ran execSync per interface and
 * stalled the event loop for 60-140 ms). Synchronous on purpose: these files are
 * generated from memory in microseconds, and each asynchronous read was several
 * thread-pool round trips (measured: 1.4 ms of CPU per round for seven reads, 0.2
 * ms for these three). /sys/class/net shows the network namespace sysfs was
 * mounted in and /proc/net/dev this process's own, which `ip netns exec` makes
 * the same.
 */
function linkState(iface: string) {
  const flags = readQuietly(`/sys/class/net/${iface}/flags`)
  if (flags === undefined) return undefined
  return {
    adminUp: (Number(flags.trim()) & IFF_UP) !== 0,
    operstate: readQuietly(`/sys/class/net/${iface}/operstate`)?.trim() || 'unknown',
    errors: linkErrors(iface),
  }
}

/**
 * The host's addresses for the daemon, read again every ADDRESSES_MS or once a
 * VRRP transition was seen (when keepalived adds or removes a VIP): a netlink
 * dump and an object per address every round cost more than the rest of the
 * system check (measured), for a list that changes with the VRRP state.
 */
export class HeldAddresses {
  private read = 0
  private list: ReturnType<typeof networkInterfaces> = {}
  constructor(private readonly now: () => number = Date.now) {}
  get(): ReturnType<typeof networkInterfaces> {
    if (this.now() - this.read >= ADDRESSES_MS) {
      this.list = networkInterfaces()
      this.read = this.now()
    }
    return this.list
  }
  /** a VRRP transition: read them again at the next round */
  changed(): void {
    this.read = 0
  }
}
export const ADDRESSES_MS = 10_000

/** The VRRP interface is up; which VIPs this host holds is reported, never a failure. */
export async function probeSystem(cfg: SystemCheckConfig, hostAddresses?: HeldAddresses): Promise<Finding> {
  // getifaddrs(3): no process, no blocking (a netlink dump: skipped when no VIP is asked for)
  const addresses = cfg.vips.length ? (hostAddresses ? hostAddresses.get() : networkInterfaces()) : {}
  const held = cfg.vips.filter((vip) =>
    Object.values(addresses).some((list) => list?.some((a) => a.address === vip.replace(/\/\d+$/, ''))),
  )
  const data: Record<string, unknown> = { vips_held: held }
  let detail = held.length ? `holds ${held.join(', ')}` : 'holds no VIP'
  if (cfg.interface) {
    const iface = cfg.interface
    data.interface = iface
    const link = iface.includes('/') || iface === '.' || iface === '..' ? undefined : linkState(iface)
    if (!link) {
      data.operstate = 'missing'
      return { ok: false, detail: `interface ${iface} is missing; ${detail}`, data }
    }
    data.operstate = link.operstate
    if (link.errors) data.link_errors = link.errors
    // Drivers without carrier detection (loopback, dummy, some tunnels) say
    // "unknown"; like `ip link`, such an interface counts as up when IFF_UP is set.
    const up = link.operstate === 'up' || (link.operstate === 'unknown' && link.adminUp)
    if (!up) return { ok: false, detail: `interface ${iface} is ${link.operstate}; ${detail}`, data }
    detail = `interface ${iface} up; ${detail}`
  }
  return { ok: true, detail, data }
}
