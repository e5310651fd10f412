// GET /status (contract section 4): snake_case, as operators and peers read it.
export interface StatusSnapshot {
  node: string
  version: string
  healthy: boolean
  /** every part of the daemon started and the first track_file decision is written */
  ready: boolean
  instances: Array<{ name: string; state: string; priority: number | null; since: string }>
  checks: Array<{ name: string; status: 'pass' | 'fail'; latency_ms: number; detail: string; checked_at: string }>
  outbox: {
    pending: number
    dead: number
    /** events kept under runtime_dir because state_dir could not take them (full disk) */
    spooled: number
    /** queues of webhooks no longer in the config: nobody delivers them */
    orphaned: Array<{ queue: string; pending: number }>
    /** why the outbox refuses new events (outbox.max_bytes reached), or null */
    full: string | null
  }
  /** keepalived's VRRP process: up when its pid file names a live process; null when not known */
  keepalived: { up: boolean | null; pid_file: string | null; detail: string }
  peers: Array<{ url: string; reachable: boolean; node?: string; healthy?: boolean; instances?: StatusSnapshot['instances']; error?: string; last_seen?: string }>
  track_file: { path: string; fault: boolean; reason: string } | null
  haproxy_watch: { up: boolean; detail: string; since: string } | null
  split_brain: Array<{ instance: string; peers: string[]; since: string }>
  webhooks: Array<{ name: string; pending: number; dead: number; last_result?: string; last_error?: string; next_attempt_at?: string }>
  recent_transitions: Array<{ instance: string; state: string; at: string; source: string }>
  /** the last SIGHUP reload: null before the first one */
  reload: { ok: boolean; at: string; error: string | null } | null
  started_at: string
}
