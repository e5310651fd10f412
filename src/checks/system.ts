import { networkInterfaces } from 'node:os'
import { readFile } from 'node:fs/promises'
import type { AgentConfig } from '../config/index.js'
import type { Finding } from './deadline.js'

type SystemCheckConfig = NonNullable<AgentConfig['checks']['system']>

/** The VRRP interface is up; which VIPs this host holds is reported, never a failure. */
export async function probeSystem(cfg: SystemCheckConfig): Promise<Finding> {
  const addresses = networkInterfaces()
  const held = cfg.vips.filter((vip) =>
    Object.values(addresses).some((list) => list?.some((a) => a.address === vip.replace(/\/\d+$/, ''))),
  )
  const data: Record<string, unknown> = { vips_held: held }
  let detail = held.length ? `holds ${held.join(', ')}` : 'holds no VIP'
  if (cfg.interface) {
    // systeminformation is only loaded when this check is configured: it is large.
    const si = await import('systeminformation')
    const list = await si.networkInterfaces()
    const iface = (Array.isArray(list) ? list : [list]).find((i) => i.iface === cfg.interface)
    let operstate = iface?.operstate
    if (!iface) {
      // Interfaces in a fresh network namespace may be missing from its cache; sysfs is the truth.
      operstate = await readFile(`/sys/class/net/${cfg.interface}/operstate`, 'utf8').then((s) => s.trim(), () => undefined)
    }
    // Drivers without carrier detection (loopback, some tunnels and bridges) say
    // "unknown"; like `ip link`, such an interface counts as up when IFF_UP is set.
    let up = operstate === 'up'
    if (!up && operstate === 'unknown') {
      const flags = await readFile(`/sys/class/net/${cfg.interface}/flags`, 'utf8').then((s) => Number(s.trim()), () => 0)
      up = (flags & 0x1) !== 0
    }
    data.interface = cfg.interface
    data.operstate = operstate ?? 'missing'
    if (!up) return { ok: false, detail: `interface ${cfg.interface} is ${operstate ?? 'missing'}; ${detail}`, data }
    detail = `interface ${cfg.interface} up; ${detail}`
  }
  return { ok: true, detail, data }
}
