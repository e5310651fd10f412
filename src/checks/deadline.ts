import type { CheckName, CheckResult } from './types.js'

export const BACKSTOP_MARGIN_MS = 25

// The reason a check's signal is aborted with once the check is over (or past
// its backstop). One object for all: abort() without a reason makes a new
// DOMException, stack and all, at every check of every round (measured in the
// daemon's profile).
const DONE = Object.freeze(new Error('the check is over'))

/** The measured body of a check: what it found, or a thrown Error meaning "fail". */
export interface Finding {
  ok: boolean
  detail: string
  data?: Record<string, unknown>
}

/**
 * Runs a probe under a hard deadline and turns whatever happens (answer, throw,
 * hang) into a CheckResult. The probe gets an AbortSignal to release sockets.
 */
export async function measured(
  name: CheckName,
  timeoutMs: number,
  probe: (signal: AbortSignal) => Promise<Finding>,
): Promise<CheckResult> {
  const started = performance.now()
  const checkedAt = new Date().toISOString()
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<Finding>((resolve) => {
    // A backstop a little after the probes' own deadlines, so that a probe that
    // honours its deadline reports its specific reason ("no answer to show stat").
    timer = setTimeout(() => {
      controller.abort(DONE)
      resolve({ ok: false, detail: `no result within ${timeoutMs} ms` })
    }, timeoutMs + BACKSTOP_MARGIN_MS)
  })
  let finding: Finding
  try {
    finding = await Promise.race([probe(controller.signal), deadline])
  } catch (err) {
    finding = { ok: false, detail: err instanceof Error ? err.message : String(err) }
  } finally {
    clearTimeout(timer)
    controller.abort(DONE)
  }
  const result: CheckResult = {
    name,
    status: finding.ok ? 'pass' : 'fail',
    latencyMs: Math.round((performance.now() - started) * 10) / 10,
    detail: finding.detail,
    checkedAt,
  }
  if (finding.data) result.data = finding.data
  return result
}
