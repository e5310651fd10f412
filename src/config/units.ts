// Durations and sizes as operators write them in YAML.

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "500ms", "30s", "5m", "24h", "7d" or a bare number of milliseconds; undefined when unreadable. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input)
  if (!m) return undefined
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!)
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 }

/** 268435456, "256MiB", "1GiB", "500MB"; undefined when unreadable. */
export function parseBytes(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$/i.exec(input)
  if (!m) return undefined
  const n = Math.round(Number(m[1]) * BYTE_UNITS[(m[2] ?? '').toLowerCase()]!)
  return Number.isSafeInteger(n) ? n : undefined
}
