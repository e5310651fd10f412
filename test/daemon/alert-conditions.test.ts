import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../src/config/index.js'
import { alertConditions } from '../../src/daemon/alert-conditions.js'
import type { DaemonContext } from '../../src/daemon/context.js'
import type { CheckLoop } from '../../src/daemon/parts/check-loop.js'
import { DaemonState } from '../../src/daemon/state.js'
import { writeInstance } from '../../src/keepalived/state-store.js'

function context(t: { teardown(fn: () => unknown): void }, doc: object, loop?: Partial<CheckLoop>) {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-agent-conditions-'))
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }))
  const config = buildConfig({ node: 'ha1', state_dir: stateDir, ...doc }, null)
  const state = new DaemonState()
  const ctx = { config: () => config, state, service: (name: string) => (name === 'check loop' ? loop : undefined) } as unknown as DaemonContext
  return { ctx, state, stateDir }
}

t.test('VRRP states from the state store; checks from the check loop, unknown before its first round', async (t) => {
  const { ctx, stateDir } = context(t, {})
  writeInstance(stateDir, { name: 'VI_1', kind: 'INSTANCE', state: 'FAULT', priority: 100, since: '2026-03-01T10:00:00.000Z' })
  const c = alertConditions(ctx)
  t.same(c.vrrp, [{ instance: 'VI_1', state: 'FAULT', since: '2026-03-01T10:00:00.000Z' }])
  t.equal(c.node, 'ha1')
  t.notOk('checks' in c, 'no check loop: unknown')
  t.same(c.splitBrain, { reported: [], suspected: [] }, 'no peers: never split brain')

  const loop = { established: () => [{ name: 'system', status: 'pass' as const, detail: 'ok' }] }
  const withLoop = context(t, {}, loop)
  t.same(alertConditions(withLoop.ctx).checks, [{ name: 'system', status: 'pass', detail: 'ok' }])
  const before = context(t, {}, { established: () => undefined })
  t.notOk('checks' in alertConditions(before.ctx), 'before the first round: unknown')
})

t.test('split brain: unknown until the peers were polled; reported only by the node that sorts first; suspected while both are MASTER', async (t) => {
  const { ctx, state, stateDir } = context(t, { peers: ['http://10.0.0.2:9471'] })
  writeInstance(stateDir, { name: 'VI_1', kind: 'INSTANCE', state: 'MASTER', priority: 100, since: '2026-03-01T10:00:00.000Z' })
  writeInstance(stateDir, { name: 'VI_2', kind: 'INSTANCE', state: 'MASTER', priority: 100, since: '2026-03-01T10:00:00.000Z' })
  t.notOk('splitBrain' in alertConditions(ctx), 'not polled yet')
  state.peers = [{ url: 'http://10.0.0.2:9471', reachable: true, node: 'ha2', instances: [{ name: 'VI_1', state: 'MASTER', priority: 90, since: '2026-03-01T10:00:01.000Z' }, { name: 'VI_2', state: 'BACKUP', priority: 90, since: 'x' }] }]
  state.splitBrain = [{ instance: 'VI_1', peers: ['ha2'], since: '2026-03-01T10:00:01.000Z' }]
  t.same(alertConditions(ctx).splitBrain, { reported: [{ instance: 'VI_1', peers: ['ha2'], since: '2026-03-01T10:00:01.000Z' }], suspected: ['VI_1'] })
  state.splitBrain = [{ instance: 'VI_1', peers: ['ha0'], since: '2026-03-01T10:00:01.000Z' }]
  t.same(alertConditions(ctx).splitBrain!.reported, [], 'ha0 sorts first: it reports, not us')
  state.peers = [{ ...state.peers[0]!, reachable: false }]
  t.same(alertConditions(ctx).splitBrain!.suspected, [], 'an unreachable peer is no MASTER we know of (as the detector says)')
})
