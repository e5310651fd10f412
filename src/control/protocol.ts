// The control socket ($runtime_dir/agent.sock): one JSON request line, one JSON
// response line, then the server closes. Types only here: `ha-agent check` and
// `ha-agent notify` load this on their fast path. The daemon parses every
// request with the schemas in requests.ts before acting on it.
import type { CheckName, Verdict } from '../checks/types.js'
import type { Transition } from '../keepalived/notify-args.js'
import type { StatusSnapshot } from '../api/status.js'

export const CONTROL_SOCKET_NAME = 'agent.sock'

export type ControlRequest =
  | { op: 'ping' }
  | { op: 'status' }
  /**
   * The daemon's current verdict, from what it knows (it never probes for a
   * `check`: an answer takes a few ms or none comes). configPath: the config the
   * asking process runs (a daemon of another config must not answer for it).
   */
  | { op: 'check'; only?: CheckName[]; configPath: string }
  /** `ha-agent notify` handing its transition over: the id it chose from its fork order, and its pid to prove it */
  | { op: 'notify'; id: string; pid: number; transition: Transition; configPath: string }
  | { op: 'webhook-test'; name?: string; timeoutMs: number }
  /** `ha-agent switchover`: run here (this node holds the VIP) or forwarded to the VIP holder */
  | { op: 'switchover'; to?: string; force: boolean; timeoutMs: number }
  | { op: 'maintenance'; action: 'on' | 'off' | 'status'; reason?: string; force: boolean; timeoutMs: number }

/** What `switchover` and `maintenance` answer (daemon/switchover.ts, daemon/maintenance.ts). */
export type OperationAnswer =
  | { ok: true; operation: 'switchover'; from: string; to: string; forced: boolean; duration_ms: number | null; wall_ms: number; instant: string; message: string; noop?: true }
  | { ok: true; operation: 'maintenance'; maintenance: { on: boolean; since: string | null; reason: string | null }; yielding: boolean; message: string }
  | { ok: false; operation: 'switchover' | 'maintenance'; refused: boolean; error: string }

export type ControlResponse =
  | { ok: true; pong: true; ready: boolean; pid: number }
  | { ok: true; verdict: Verdict }
  | { ok: true; status: StatusSnapshot }
  | { ok: true; deliveries: Array<{ webhook: string; result: string; detail?: string }> }
  | { ok: true; recorded: string; stored: 'outbox' | 'spool'; problem?: string }
  | OperationAnswer
  | { ok: false; error: string }
