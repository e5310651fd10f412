// The control socket ($runtime_dir/agent.sock): one JSON request line, one JSON
// response line, then the server closes. Kept dependency-free: `ha-agent check`
// loads this on its fast path.
import type { CheckName, Verdict } from '../checks/types.js'
import type { Transition } from '../keepalived/notify-args.js'

export const CONTROL_SOCKET_NAME = 'agent.sock'

export type ControlRequest =
  | { op: 'check'; only?: CheckName[]; timeoutMs?: number; configPath?: string }
  | { op: 'status' }
  | { op: 'webhook-test'; name?: string; timeoutMs: number }
  | { op: 'ping' }
  /** `ha-agent notify` handing its transition over; pid: the notify process, for its fork order */
  | { op: 'notify'; transition: Transition; pid: number; configPath?: string }

export type ControlResponse =
  | { ok: true; verdict: Verdict }
  | { ok: true; status: Record<string, unknown> }
  | { ok: true; deliveries: Array<{ webhook: string; result: string; detail?: string }> }
  | { ok: true; pong: true }
  | { ok: true; recorded: string }
  | { ok: false; error: string }
