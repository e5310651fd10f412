// pg has no AbortSignal support and its end() waits for the server's goodbye,
// which a hung server never sends: a check that gave up destroys the socket so
// that nothing it opened outlives its deadline (and a `check` process can exit).

export interface PgClientLike {
  connection?: { stream?: { destroy(): void } }
}

export function destroyPgClient(client: PgClientLike): void {
  try {
    client.connection?.stream?.destroy()
  } catch {
    // already gone
  }
}

/** A simple-protocol query with its own read timeout (pg honours `query_timeout` per query). */
export function timedQuery(text: string, timeoutMs: number): { text: string } {
  return { text, query_timeout: Math.max(1, Math.floor(timeoutMs)) } as { text: string }
}
