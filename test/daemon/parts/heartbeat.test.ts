// The heartbeat part in-process: agent.heartbeat on the cron schedule, nothing
// without one. (The daemon process with a heartbeat reaching a receiver:
// test/integration/daemon-heartbeat.test.ts.)
import t from 'tap'
import { buildConfig } from '../../../src/config/index.js'
import type { DaemonContext } from '../../../src/daemon/context.js'
import { heartbeatPart } from '../../../src/daemon/parts/heartbeat.js'
import { DaemonState } from '../../../src/daemon/state.js'
import type { NewEvent } from '../../../src/outbox/index.js'
import { waitFor } from '../../fixtures/procs.js'

function context(heartbeat: string | null) {
  const config = buildConfig({ node: 'hb', heartbeat }, null, { env: {} })
  const emitted: NewEvent[] = []
  const state = new DaemonState()
  const ctx = { config: () => config, state, emit: async (e: NewEvent) => void emitted.push(e) } as unknown as DaemonContext
  return { ctx, config, emitted, state }
}

t.test('every second with "* * * * * *": agent.heartbeat naming the node and its fault state', async (t) => {
  const { ctx, config, emitted, state } = context('* * * * * *')
  const running = await heartbeatPart(ctx).start(config)
  t.teardown(() => running.stop())
  await waitFor('a heartbeat', () => emitted[0], 5000)
  t.same(emitted[0], { type: 'agent.heartbeat', data: { node: 'hb', state: 'ok' } })
  state.fault = { ...state.fault, fault: true }
  await waitFor('a heartbeat in fault', () => emitted.find((e) => e.data.state === 'fault'), 5000)
  await running.stop()
  const count = emitted.length
  await new Promise((r) => setTimeout(r, 1100))
  t.equal(emitted.length, count, 'none after stop')
})

t.test('no heartbeat configured: nothing is scheduled', async (t) => {
  const { ctx, config, emitted } = context(null)
  const part = heartbeatPart(ctx)
  t.equal(part.key(config), null, 'a reload that sets one restarts the part')
  const running = await part.start(config)
  await new Promise((r) => setTimeout(r, 1100))
  t.same(emitted, [])
  await running.stop()
})

t.test('an invalid cron expression cannot start', async (t) => {
  const { ctx } = context(null)
  const bad = { ...buildConfig({}, null, { env: {} }), heartbeat: 'every minute' }
  await t.rejects(heartbeatPart(ctx).start(bad), /heartbeat: invalid cron expression "every minute"/)
})
