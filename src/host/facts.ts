// Host facts for `ha-agent status`, a short-lived command an operator runs by
// hand: this is where systeminformation earns its place (the distribution's
// name, memory as the kernel accounts for it). It starts processes (about 17 for
// osInfo here) and takes a few hundred ms, so it is never on the daemon's or
// `check`'s path, and what node:os answers for free (uptime, load) comes from there.
import { hostname, loadavg, release, uptime } from 'node:os'

export interface HostFacts {
  hostname: string
  /** e.g. "Debian GNU/Linux 12 (bookworm)" */
  os: string
  kernel: string
  uptime_s: number
  /** 1, 5 and 15 minute load averages */
  load: [number, number, number]
  memory: { total_bytes: number; available_bytes: number } | null
}

type Si = typeof import('systeminformation')

async function systeminformation(): Promise<Si> {
  const mod = await import('systeminformation')
  // A CommonJS module: Node's ESM loader exposes its named exports, the esbuild
  // bundle only a default export. Take whichever carries the functions.
  return (mod as unknown as { default?: Si }).default ?? mod
}

/** Never throws; whatever systeminformation has not answered within timeoutMs is left out. */
export async function hostFacts(opts: { timeoutMs?: number } = {}): Promise<HostFacts> {
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg()
  const facts: HostFacts = { hostname: hostname(), os: 'unknown OS', kernel: release(), uptime_s: Math.round(uptime()), load: [l1, l5, l15], memory: null }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, opts.timeoutMs ?? 2000)
    timer.unref()
  })
  const gather = (async () => {
    const si = await systeminformation()
    await Promise.all([
      si.osInfo().then((o) => {
        facts.os = [o.distro, o.release, o.codename ? `(${o.codename})` : ''].filter(Boolean).join(' ') || facts.os
        if (o.fqdn) facts.hostname = o.fqdn
      }),
      si.mem().then((m) => {
        facts.memory = { total_bytes: m.total, available_bytes: m.available }
      }),
    ])
  })().catch(() => undefined)
  await Promise.race([gather, deadline])
  clearTimeout(timer)
  return { ...facts, load: [...facts.load], memory: facts.memory && { ...facts.memory } }
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`

function duration(s: number): string {
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m`
}

/** One line for the top of `ha-agent status`. */
export function formatHostFacts(f: HostFacts): string {
  const mem = f.memory ? `, memory ${gib(f.memory.available_bytes)} of ${gib(f.memory.total_bytes)} available` : ''
  return `host ${f.hostname}: ${f.os}, Linux ${f.kernel}, up ${duration(f.uptime_s)}, load ${f.load.map((x) => x.toFixed(2)).join(' ')}${mem}\n`
}
