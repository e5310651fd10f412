// This build's version: `ha-agent --version`, the help text and the daemon's
// /status. A base module, because the entry point and the daemon both say it.
// Set by the esbuild bundle (scripts/build.mjs); running from source says so.
declare const __VERSION__: string
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev'
