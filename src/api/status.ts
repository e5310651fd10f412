// GET /status (contract section 4): snake_case, as operators and peers read it.
export interface StatusSnapshot {
  node: string
  healthy: boolean
  instances: Array<{ name: string; state: string; priority: number | null; since: string }>
  checks: Array<{ name: string; status: 'pass' | 'fail'; latency_ms: number; detail: string; checked_at: string }>
  outbox: { pending: number; dead: number }
  peers: Array<{ url: string; reachable: boolean; node?: string; healthy?: boolean; instances?: StatusSnapshot['instances']; error?: string; last_seen?: string }>
  track_file: { path: string; fault: boolean; reason: string } | null
  haproxy_watch: { up: boolean; detail: string; since: string } | null
  split_brain: Array<{ instance: string; peers: string[]; since: string }>
  webhooks: Array<{ name: string; pending: number; dead: number; last_result?: string; last_error?: string; next_attempt_at?: string }>
  recent_transitions: Array<{ instance: string; state: string; at: string; source: string }>
  started_at: string
}
