// Arguments as the kernel passed them. Node decodes argv as UTF-8 and turns
// every invalid byte into U+FFFD, so "VI_\xfe" and "VI_\xff" (an instance name
// from a Latin-1 keepalived.conf) would both arrive as "VI_\uFFFD": two instances
// silently merged into one. Such an argument is read again from
// /proc/self/cmdline and its invalid bytes written as \xNN (and "\" as "\\"),
// so different byte strings stay different names. Valid UTF-8 is left alone.
import { readFileSync } from 'node:fs'

/** `bytes` as UTF-8, with each byte that is not part of a valid sequence as \xNN. */
export function escapeInvalidUtf8(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  const hex = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`
  while (i < bytes.length) {
    const b = bytes[i]!
    let len = 0
    let min = 0
    if (b < 0x80) len = 1
    else if (b >= 0xc2 && b <= 0xdf) (len = 2), (min = 0x80)
    else if (b >= 0xe0 && b <= 0xef) (len = 3), (min = 0x800)
    else if (b >= 0xf0 && b <= 0xf4) (len = 4), (min = 0x10000)
    let cp = len === 1 ? b : len === 2 ? b & 0x1f : len === 3 ? b & 0x0f : b & 0x07
    let ok = len > 0 && i + len <= bytes.length
    for (let k = 1; ok && k < len; k++) {
      const c = bytes[i + k]!
      if ((c & 0xc0) !== 0x80) ok = false
      else cp = (cp << 6) | (c & 0x3f)
    }
    // overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid too
    if (ok && len > 1 && (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)) ok = false
    if (!ok) {
      out += hex(b)
      i += 1
      continue
    }
    const ch = String.fromCodePoint(cp)
    out += ch === '\\' ? '\\\\' : ch
    i += len
  }
  return out
}

/**
 * process.argv.slice(2), with arguments that were not valid UTF-8 recovered
 * from /proc/self/cmdline (see above). Without /proc, argv as Node decoded it.
 */
export function losslessArgv(argv: readonly string[] = process.argv, cmdline = '/proc/self/cmdline'): string[] {
  const args = argv.slice(2)
  if (!args.some((a) => a.includes('\uFFFD'))) return args
  let raw: Buffer
  try {
    raw = readFileSync(cmdline)
  } catch {
    return args
  }
  const parts: Buffer[] = []
  for (let start = 0; start < raw.length; ) {
    const end = raw.indexOf(0, start)
    parts.push(raw.subarray(start, end < 0 ? raw.length : end))
    start = end < 0 ? raw.length : end + 1
  }
  // cmdline holds the same words as process.argv (node, script, args...), unless
  // Node rewrote them (a flag before the script): then line them up from the end.
  const offset = parts.length - argv.length
  return args.map((a, i) => {
    if (!a.includes('\uFFFD')) return a
    const bytes = parts[offset + i + 2]
    if (!bytes || bytes.toString('utf8') !== a) return a
    const strict = new TextDecoder('utf-8', { fatal: true })
    try {
      strict.decode(bytes)
      return a // valid UTF-8 that contains U+FFFD itself
    } catch {
      return escapeInvalidUtf8(bytes)
    }
  })
}
