// format exec: a local command per event, fed by the same durable outbox as the
// HTTP receivers, so a hook gets what keepalived's notify scripts never had:
// order, one at a time (the lane serialises), retries until max_age, dead
// letters, nothing lost across a crash.
//
// The command runs as the daemon's user, with no shell (argv as configured), in
// its own process group (a timeout kills the whole group: a hook's children
// die with it), with cwd / and a minimal environment (the daemon's own may hold
// secrets: HA_AGENT_WEBHOOK_*_SECRET, HA_AGENT_POSTGRES_PASSWORD):
//
//   PATH, LANG=C.UTF-8
//   HA_AGENT_EVENT_ID         msg_... (the webhook-id: the same on every attempt; use it to do things once)
//   HA_AGENT_EVENT_TYPE       vrrp.transition, check.failed, ...
//   HA_AGENT_EVENT_TIMESTAMP  ISO-8601, when it happened
//   HA_AGENT_NODE             the node that saw it
//   HA_AGENT_WEBHOOK          this hook's name
// and, from the event's data, when the event has them (null is the empty string):
//   HA_AGENT_INSTANCE HA_AGENT_KIND HA_AGENT_STATE HA_AGENT_PREVIOUS_STATE
//   HA_AGENT_PRIORITY HA_AGENT_SOURCE    (vrrp.transition; STATE also for agent.*)
//   HA_AGENT_CHECK HA_AGENT_DETAIL       (check.failed, check.recovered)
//   HA_AGENT_PEERS (comma-separated)     (cluster.split_brain[_resolved], with INSTANCE)
//   HA_AGENT_REASON                      (cluster.flap_damped, agent.maintenance)
//   HA_AGENT_PLANNED                     (vrrp.transition: switchover or maintenance, when planned)
//   HA_AGENT_FROM HA_AGENT_TO HA_AGENT_FORCED HA_AGENT_DURATION_MS   (vrrp.switchover)
//   HA_AGENT_ON                          (agent.maintenance: true or false)
// stdin: the `standard` body, {"type","timestamp","data"}: the bytes an HTTP receiver gets, no newline.
//
// Exit 0: delivered. Non-zero, a signal, a timeout, or a program that cannot be
// started (not installed yet, not executable): retried like a failed request,
// until max_age, then dead-lettered. A hook is done when its command exits:
// anything it left running in its process group is killed then (detach with
// setsid to leave something running).
import { spawn, type ChildProcess } from 'node:child_process'
import type { ExecWebhookConfig } from '../config/index.js'
import { describeSystemError } from '../errors/index.js'
import type { AgentEvent } from '../events/index.js'
import { standardBody } from './render.js'
import type { Attempt, Sink } from './sink.js'

/** systemd's default PATH for services */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** between SIGTERM and SIGKILL of a hook that overran its timeout */
export const KILL_GRACE_MS = 2000
/** output kept for the detail of a failure (the end of each stream) */
const OUTPUT_KEEP = 4096
/** after the command exits, how long its pipes may stay open (a grandchild that escaped the group) */
const CLOSE_WAIT_MS = 200
const DETAIL_MAX = 300

/** data fields passed as HA_AGENT_<FIELD> */
const DATA_ENV = ['instance', 'kind', 'state', 'previous_state', 'priority', 'source', 'check', 'detail', 'peers', 'reason', 'planned', 'from', 'to', 'forced', 'duration_ms', 'on'] as const

export interface ExecSinkOptions {
  /** PATH of the hook (default DEFAULT_PATH) */
  path?: string
  killGraceMs?: number
}

const envValue = (v: unknown): string => {
  const text = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)
  // execve cannot carry a NUL byte; nothing we record has one, but data is data.
  return text.replace(/\0/g, '')
}

/** The hook's whole environment for `event` (nothing inherited from the daemon). */
export function hookEnvironment(event: AgentEvent, webhook: string, path = DEFAULT_PATH): Record<string, string> {
  const data = event.data as Record<string, unknown>
  const env: Record<string, string> = {
    PATH: path,
    LANG: 'C.UTF-8',
    HA_AGENT_EVENT_ID: event.id,
    HA_AGENT_EVENT_TYPE: event.type,
    HA_AGENT_EVENT_TIMESTAMP: event.timestamp,
    HA_AGENT_NODE: envValue(data.node),
    HA_AGENT_WEBHOOK: webhook,
  }
  for (const key of DATA_ENV) if (key in data) env[`HA_AGENT_${key.toUpperCase()}`] = envValue(data[key])
  return env
}

/** Keeps the last `limit` bytes written to it. */
class Tail {
  private chunks: Buffer[] = []
  private size = 0
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length
  }
  lastLine(): string {
    const text = Buffer.concat(this.chunks).subarray(-this.limit).toString('utf8')
    const line = text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? ''
    return line.length > DETAIL_MAX ? line.slice(0, DETAIL_MAX) + '…' : line
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group is gone
  }
}

export function createExecSink(webhook: ExecWebhookConfig, opts: ExecSinkOptions = {}): Sink {
  const [program, ...args] = webhook.command
  const grace = opts.killGraceMs ?? KILL_GRACE_MS
  return {
    deliver(event, signal) {
      if (signal.aborted) return Promise.resolve({ result: 'retry', detail: 'abandoned at shutdown' })
      return new Promise<Attempt>((resolve) => {
        const stdout = new Tail(OUTPUT_KEEP)
        const stderr = new Tail(OUTPUT_KEEP)
        let timedOut = false
        let aborted = false
        let settled = false
        const timers: NodeJS.Timeout[] = []
        let child: ChildProcess
        try {
          child = spawn(program!, args, {
            shell: false,
            // its own process group: the timeout and the end of the hook reach its children too
            detached: true,
            cwd: '/',
            env: hookEnvironment(event, webhook.name, opts.path),
            stdio: ['pipe', 'pipe', 'pipe'],
          })
        } catch (err) {
          resolve({ result: 'retry', detail: `cannot run ${program}: ${describeSystemError(err)}` })
          return
        }
        let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
        const outcome = (): Attempt => {
          if (aborted) return { result: 'retry', detail: 'abandoned at shutdown' }
          if (timedOut) return { result: 'retry', detail: `killed after ${webhook.timeout_ms} ms` }
          if (exit?.code === 0) return { result: 'delivered', detail: 'exit 0' }
          const how = exit?.code != null ? `exit ${exit.code}` : `killed by ${exit?.signal ?? 'a signal'}`
          const said = stderr.lastLine() || stdout.lastLine()
          return { result: 'retry', detail: said ? `${how}: ${said}` : how }
        }
        const finish = (attempt: Attempt) => {
          if (settled) return
          settled = true
          for (const t of timers) clearTimeout(t)
          signal.removeEventListener('abort', onAbort)
          resolve(attempt)
        }
        const stop = (why: 'timeout' | 'abort') => {
          if (exit || settled) return
          if (why === 'timeout') timedOut = true
          else aborted = true
          killGroup(child.pid, 'SIGTERM')
          const t = setTimeout(() => killGroup(child.pid, 'SIGKILL'), grace)
          t.unref()
          timers.push(t)
        }
        const onAbort = () => stop('abort')
        signal.addEventListener('abort', onAbort, { once: true })
        const timer = setTimeout(() => stop('timeout'), webhook.timeout_ms)
        timer.unref()
        timers.push(timer)

        child.stdout!.on('data', (c: Buffer) => stdout.push(c))
        child.stderr!.on('data', (c: Buffer) => stderr.push(c))
        // A hook that does not read its stdin closes the pipe: EPIPE is not a failure.
        child.stdin!.on('error', () => {})
        child.stdin!.end(JSON.stringify(standardBody(event)))

        child.on('error', (err) => {
          // ENOENT, EACCES: not installed (yet), or not executable. Retried: the operator may fix it.
          if (child.pid === undefined) finish({ result: 'retry', detail: `cannot run ${program}: ${describeSystemError(err)}` })
        })
        child.on('exit', (code, sig) => {
          exit = { code, signal: sig }
          // No signal to this group id after this one: once its last member is gone, the id may be reused.
          for (const t of timers.splice(0)) clearTimeout(t)
          // The hook is over: whatever it left in its group goes too, so the next event's hook runs alone.
          killGroup(child.pid, 'SIGKILL')
          // Read what is still in the pipes, unless something that escaped the group holds them open.
          const t = setTimeout(() => {
            child.stdout!.destroy()
            child.stderr!.destroy()
            finish(outcome())
          }, CLOSE_WAIT_MS)
          t.unref()
          timers.push(t)
        })
        child.on('close', () => {
          if (exit) finish(outcome())
        })
      })
    },
  }
}
