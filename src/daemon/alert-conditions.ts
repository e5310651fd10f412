// What holds now, for format alertmanager (webhooks/alertmanager-sink.ts): each
// resend round it resolves alerts whose condition ended without an event (a
// check that recovered while the daemon was down: the debouncer only reports a
// recovery after a failure it saw) and fires those that hold but were never
// sent. Read-only; a part of the picture not known yet is left out, and the sink
// then neither fires nor resolves that kind.
import { currentInstances } from '../keepalived/index.js'
import type { AlertConditions } from '../webhooks/index.js'
import type { DaemonContext } from './context.js'
import { plannedNow } from './planned.js'
import type { CheckLoop } from './parts/check-loop.js'

export function alertConditions(ctx: DaemonContext): AlertConditions {
  const config = ctx.config()
  const instances = currentInstances(config.state_dir)
  const checks = ctx.service<CheckLoop>('check loop')?.established()
  return {
    node: config.node,
    vrrp: instances.map((i) => ({ instance: i.name, state: i.state, since: i.since })),
    ...(checks ? { checks } : {}),
    ...splitBrain(ctx, instances),
    maintenance: ctx.state.maintenance,
    planned: plannedNow(ctx.state) !== undefined,
  }
}

/** Unknown until the peers were polled once (the cluster part sets state.peers after each round). */
function splitBrain(ctx: DaemonContext, instances: ReadonlyArray<{ name: string; state: string }>): Pick<AlertConditions, 'splitBrain'> {
  const { node, peers } = ctx.config()
  if (!peers.length) return { splitBrain: { reported: [], suspected: [] } }
  if (!ctx.state.peers.length) return {}
  const masterOnPeer = (instance: string) => ctx.state.peers.some((p) => p.reachable && p.instances?.some((i) => i.name === instance && i.state === 'MASTER'))
  return {
    splitBrain: {
      // The SplitBrainDetector's rule: the node whose name sorts first among the MASTERs reports.
      reported: ctx.state.splitBrain.filter((e) => [node, ...e.peers].sort()[0] === node),
      suspected: instances.filter((i) => i.state === 'MASTER' && masterOnPeer(i.name)).map((i) => i.name),
    },
  }
}
