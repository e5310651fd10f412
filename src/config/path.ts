// Kept free of yaml and zod: `ha-agent check` resolves paths without loading them.
import { readFileSync } from 'node:fs'

export const DEFAULT_CONFIG_PATH = '/etc/ha-agent/config.yaml'
export const DEFAULT_RUNTIME_DIR = '/run/ha-agent'

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
