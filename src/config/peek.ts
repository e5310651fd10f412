// The fast paths' view of the config: `ha-agent check` and `ha-agent notify`
// find the daemon's socket and their deadline with a line scan, without loading
// a YAML parser or the schema (half of a Node.js command's start-up). Anything
// unusual (flow style, anchors, no file) gives the default; the caller verifies
// with the daemon or falls back to the full loader.
import { readFileSync } from 'node:fs'

// Defaults the fast paths need before (or without) the schema. The schema
// takes them from here, so each is written once; the sh launcher repeats the
// two paths (test/config/peek.test.ts holds them equal).
export const DEFAULT_CONFIG_PATH = '/etc/ha-agent/config.yaml'
export const DEFAULT_RUNTIME_DIR = '/run/ha-agent'
export const DEFAULT_STATE_DIR = '/var/lib/ha-agent'
/** checks.timeout_ms: also `check`'s deadline until the config says otherwise */
export const DEFAULT_CHECK_TIMEOUT_MS = 1000

/** --config, else $HA_AGENT_CONFIG, else /etc/ha-agent/config.yaml */
export function resolveConfigPath(flag: string | undefined, env: Record<string, string | undefined>): string {
  return flag ?? env.HA_AGENT_CONFIG ?? DEFAULT_CONFIG_PATH
}

/**
 * The top-level `runtime_dir` read with a line match instead of a YAML parser,
 * for the fast path of `check` (finding the daemon's socket). Anything unusual
 * (flow style, anchors, no file) gives the default; the caller verifies with
 * the daemon and falls back to the full loader.
 */
export function peekRuntimeDir(configPath: string): string {
  let text: string
  try {
    text = readFileSync(configPath, 'utf8')
  } catch {
    return DEFAULT_RUNTIME_DIR
  }
  const m = /^runtime_dir:[ \t]*(?:"([^"\n]+)"|'([^'\n]+)'|([^\s#'"][^\n#]*?))[ \t]*(?:#.*)?$/m.exec(text)
  return (m?.[1] ?? m?.[2] ?? m?.[3] ?? DEFAULT_RUNTIME_DIR).trim()
}

/**
 * `checks.timeout_ms` read with a line scan (block style only), so that the
 * overall deadline is right before YAML and zod are loaded, or without them when
 * the daemon answers. Anything else gives undefined; the full loader corrects it.
 */
export function peekCheckTimeout(configText: string): number | undefined {
  const lines = configText.split('\n')
  const start = lines.findIndex((l) => /^checks:[ \t]*(#.*)?$/.test(l))
  if (start < 0) return undefined
  let childIndent: number | undefined
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue
    const indent = line.length - line.trimStart().length
    if (indent === 0) return undefined
    childIndent ??= indent
    if (indent !== childIndent) continue
    const m = /^\s+timeout_ms:[ \t]*(\d+)[ \t]*(#.*)?$/.exec(line)
    if (m) return Number(m[1]) > 0 ? Number(m[1]) : undefined
  }
  return undefined
}
