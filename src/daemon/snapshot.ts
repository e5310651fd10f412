// GET /status, `ha-agent status` and the metrics read this.
import type { StatusSnapshot } from '../api/index.js'
import type { CheckResult } from '../checks/index.js'
import type { AgentConfig } from '../config/index.js'
import { VERSION } from '../version/index.js'
import { currentInstances } from '../keepalived/index.js'
import type { Dispatcher } from '../webhooks/index.js'
import type { DaemonState } from './state.js'

function toSnapshotCheck(c: CheckResult) {
  return { name: c.name, status: c.status, latency_ms: c.latencyMs, detail: c.detail, checked_at: c.checkedAt }
}

export function buildSnapshot(config: AgentConfig, state: DaemonState, dispatcher: Dispatcher | undefined): StatusSnapshot {
  const stats = dispatcher?.stats() ?? { pending: 0, dead: 0, webhooks: [] }
  const w = state.haproxy
  return {
    node: config.node,
    version: VERSION,
    healthy: (state.latest?.healthy ?? false) && !state.fault.fault,
    ready: state.ready,
    instances: currentInstances(config.state_dir).map((i) => ({ name: i.name, state: i.state, priority: i.priority, since: i.since })),
    checks: (state.latest?.checks ?? []).map(toSnapshotCheck),
    outbox: { pending: stats.pending, dead: stats.dead, spooled: state.outbox.spooled, orphaned: state.outbox.orphaned, full: state.outbox.full },
    keepalived: { up: state.keepalived.up, pid_file: config.keepalived?.pid_file ?? null, detail: state.keepalived.detail },
    notify_refused: { count: state.notifyRefused.count, last_error: state.notifyRefused.lastError, last_at: state.notifyRefused.lastAt },
    peers: state.peers,
    track_file: config.keepalived?.track_file ? { path: config.keepalived.track_file, fault: state.fault.fault, reason: state.fault.reason } : null,
    haproxy_watch: config.checks.haproxy && w ? { up: w.up, detail: w.detail, since: new Date(w.since).toISOString() } : null,
    split_brain: state.splitBrain,
    webhooks: stats.webhooks.map((s) => ({
      name: s.name,
      pending: s.pending,
      dead: s.dead,
      ...(s.lastResult ? { last_result: s.lastResult } : {}),
      ...(s.lastError ? { last_error: s.lastError } : {}),
      ...(s.nextAttemptAt ? { next_attempt_at: s.nextAttemptAt } : {}),
    })),
    recent_transitions: [...state.recent],
    reload: state.reload,
    started_at: state.startedAt,
    maintenance: { on: state.maintenance.on, since: state.maintenance.since, reason: state.maintenance.reason },
    yielding: state.yielding,
    switchover: state.handover ? { to: state.handover.to, since: new Date(state.handover.since).toISOString() } : null,
  }
}
