import { UsageError } from '../errors/index.js'
import { VRRP_STATES, type VrrpState } from '../events/index.js'

export interface Transition {
  kind: 'INSTANCE' | 'GROUP'
  instance: string
  state: VrrpState
  priority: number | null
}

function toState(word: string, where: string): VrrpState {
  const upper = word.toUpperCase()
  if (!(VRRP_STATES as readonly string[]).includes(upper)) {
    throw new UsageError(`notify: ${where} "${word}" is not a VRRP state (${VRRP_STATES.join(', ')})`)
  }
  return upper as VrrpState
}

/**
 * keepalived's two ways of calling a notify script:
 *   notify "ha-agent notify"          -> INSTANCE|GROUP NAME STATE [PRIORITY]
 *   notify_master "ha-agent notify master VI_1" -> master|backup|fault|stop [NAME]
 */
export function parseNotifyArgs(args: readonly string[]): Transition {
  const [first, second, third, fourth, ...extra] = args
  if (!first) throw new UsageError('notify: expected INSTANCE|GROUP NAME STATE [PRIORITY] or master|backup|fault|stop [NAME]')
  const upper = first.toUpperCase()
  if (upper === 'INSTANCE' || upper === 'GROUP') {
    if (!second) throw new UsageError(`notify: ${upper} needs a NAME`)
    if (!third) throw new UsageError(`notify: ${upper} ${second} needs a STATE`)
    if (extra.length) throw new UsageError(`notify: unexpected argument "${extra[0]}"`)
    let priority: number | null = null
    if (fourth !== undefined) {
      // keepalived writes a plain decimal: "", "0x10", "1e2", " 7" are not priorities.
      if (!/^\d{1,3}$/.test(fourth) || Number(fourth) > 255) throw new UsageError(`notify: PRIORITY "${fourth}" is not a decimal 0-255`)
      priority = Number(fourth)
    }
    return { kind: upper, instance: second, state: toState(third, 'STATE'), priority }
  }
  if (third !== undefined) throw new UsageError(`notify: unexpected argument "${third}"`)
  return { kind: 'INSTANCE', instance: second ?? 'default', state: toState(first, 'first argument'), priority: null }
}

/**
 * One line of keepalived's notify_fifo: `INSTANCE "VI_1" MASTER 100`, `GROUP "G" BACKUP`.
 * Other lines (LVS virtual/real server events, MASTER_RX_LOWER_PRI) are not
 * VRRP transitions: null.
 */
export function parseFifoLine(line: string): Transition | null {
  const m = /^(INSTANCE|GROUP)\s+"([^"]*)"\s+(\S+)(?:\s+(\d+))?\s*$/.exec(line.trim())
  if (!m) return null
  const state = m[3]!.toUpperCase()
  if (!(VRRP_STATES as readonly string[]).includes(state)) return null
  return { kind: m[1] as Transition['kind'], instance: m[2]!, state: state as VrrpState, priority: m[4] !== undefined ? Number(m[4]) : null }
}
