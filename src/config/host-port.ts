/** "127.0.0.1:6432", "[::1]:6432" -> host and port (the schema already checked the shape). */
export function splitHostPort(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':')
  return { host: target.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(target.slice(colon + 1)) }
}
