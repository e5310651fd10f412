import { networkInterfaces } from 'node:os'
import { readFile } from 'node:fs/promises'
import type { AgentConfig } from '../config/index.js'
import type { Finding } from './deadline.js'

type SystemCheckConfig = NonNullable<AgentConfig['checks']['system']>

const sysfs = (iface: string, file: string) =>
  readFile(`/sys/class/net/${iface}/${file}`, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  )

/**
 * The link state through systeminformation's networkStats(iface): it reads sysfs
 * with an async child process. Not networkInterfaces(): that one runs execSync
 * per interface and stalls the event loop for 60-140 ms here, long enough to
 * break the check's own deadline and the daemon's 100 ms HAProxy watch.
 */
async function linkState(iface: string): Promise<{ operstate: string; errors?: Record<string, number> }> {
  const mod = await import('systeminformation')
  // A CommonJS module: Node's ESM loader exposes its named exports, the esbuild
  // bundle only a default export. Take whichever carries the functions.
  const si = (mod as unknown as { default?: typeof mod }).default ?? mod
  const [stats] = await si.networkStats(iface)
  const operstate = stats?.operstate && stats.operstate !== 'unknown' ? stats.operstate : ((await sysfs(iface, 'operstate')) ?? 'unknown')
  if (!stats) return { operstate }
  return { operstate, errors: { rx_errors: stats.rx_errors, tx_errors: stats.tx_errors, rx_dropped: stats.rx_dropped, tx_dropped: stats.tx_dropped } }
}

/** The VRRP interface is up; which VIPs this host holds is reported, never a failure. */
export async function probeSystem(cfg: SystemCheckConfig): Promise<Finding> {
  const addresses = networkInterfaces()
  const held = cfg.vips.filter((vip) =>
    Object.values(addresses).some((list) => list?.some((a) => a.address === vip.replace(/\/\d+$/, ''))),
  )
  const data: Record<string, unknown> = { vips_held: held }
  let detail = held.length ? `holds ${held.join(', ')}` : 'holds no VIP'
  if (cfg.interface) {
    const iface = cfg.interface
    data.interface = iface
    // networkStats says "unknown" for a missing interface too: sysfs tells them apart.
    if ((await sysfs(iface, 'flags')) === undefined) {
      data.operstate = 'missing'
      return { ok: false, detail: `interface ${iface} is missing; ${detail}`, data }
    }
    const link = await linkState(iface)
    data.operstate = link.operstate
    if (link.errors) data.link_errors = link.errors
    // Drivers without carrier detection (loopback, dummy, some tunnels) say
    // "unknown"; like `ip link`, such an interface counts as up when IFF_UP is set.
    let up = link.operstate === 'up'
    if (!up && link.operstate === 'unknown') up = (Number(await sysfs(iface, 'flags')) & 0x1) !== 0
    if (!up) return { ok: false, detail: `interface ${iface} is ${link.operstate}; ${detail}`, data }
    detail = `interface ${iface} up; ${detail}`
  }
  return { ok: true, detail, data }
}
