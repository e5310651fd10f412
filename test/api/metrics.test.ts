import t from 'tap'
import { createMetrics, urlLabel } from '../../src/api/metrics.js'
import { fakeSnapshot as baseSnapshot, PEER_WITH_SECRETS, STARTED_AT } from '../fixtures/snapshot.js'
import { parseExposition, samples, value, type Exposition } from '../fixtures/prometheus.js'

async function scrape(m: ReturnType<typeof createMetrics>): Promise<Exposition> {
  return parseExposition(await m.registry.metrics())
}

t.test('every metric from the snapshot, with its labels and values', async (t) => {
  const snap = baseSnapshot()
  const m = createMetrics(() => snap)
  m.checkUp.set({ check: 'haproxy' }, 1)
  m.checkUp.set({ check: 'postgres' }, 0)
  m.checkDuration.set({ check: 'postgres' }, 0.25)
  m.transitions.inc({ vrrp_instance: 'VI_1', state: 'MASTER' })
  m.transitions.inc({ vrrp_instance: 'VI_1', state: 'MASTER' })
  m.deliveries.inc({ webhook: 'ops', result: 'delivered' })
  m.deliveries.inc({ webhook: 'ops', result: 'retry' }, 3)
  m.flapDamped.inc()
  const e = await scrape(m)

  t.equal(value(e, 'ha_agent_build_info', { version: '1.2.3' }), 1)
  t.equal(value(e, 'ha_agent_healthy'), 1)
  t.equal(value(e, 'ha_agent_ready'), 1)
  t.equal(value(e, 'ha_agent_check_up', { check: 'haproxy' }), 1)
  t.equal(value(e, 'ha_agent_check_up', { check: 'postgres' }), 0)
  t.equal(value(e, 'ha_agent_check_duration_seconds', { check: 'postgres' }), 0.25)

  t.same(
    samples(e, 'ha_agent_vrrp_state', { vrrp_instance: 'VI_1' }).map((s) => `${s.labels.state}=${s.value}`),
    ['MASTER=1', 'BACKUP=0', 'FAULT=0', 'STOP=0', 'DELETED=0'],
    'one series per state, 1 for the current one',
  )
  t.equal(value(e, 'ha_agent_vrrp_state', { vrrp_instance: 'VI_2', state: 'FAULT' }), 1)
  t.equal(value(e, 'ha_agent_vrrp_priority', { vrrp_instance: 'VI_1' }), 250)
  t.same(samples(e, 'ha_agent_vrrp_priority', { vrrp_instance: 'VI_2' }), [], 'no priority sample when keepalived gave none')

  t.equal(value(e, 'ha_agent_transitions_total', { vrrp_instance: 'VI_1', state: 'MASTER' }), 2, 'counted twice')
  t.equal(value(e, 'ha_agent_transitions_total', { vrrp_instance: 'VI_2', state: 'BACKUP' }), 0, 'known instances start at 0 for every state')
  t.equal(samples(e, 'ha_agent_transitions_total').length, 10)

  t.equal(value(e, 'ha_agent_keepalived_up'), 1)
  t.equal(value(e, 'ha_agent_track_file_fault'), 1)

  t.equal(value(e, 'ha_agent_webhook_deliveries_total', { webhook: 'ops', result: 'delivered' }), 1)
  t.equal(value(e, 'ha_agent_webhook_deliveries_total', { webhook: 'ops', result: 'retry' }), 3)
  t.equal(value(e, 'ha_agent_webhook_deliveries_total', { webhook: 'pager', result: 'dead' }), 0, 'configured webhooks start at 0')
  t.equal(value(e, 'ha_agent_outbox_pending'), 3)
  t.equal(value(e, 'ha_agent_outbox_dead'), 2)
  t.equal(value(e, 'ha_agent_webhook_pending', { webhook: 'ops' }), 2)
  t.equal(value(e, 'ha_agent_webhook_pending', { webhook: 'pager' }), 1)
  t.equal(value(e, 'ha_agent_webhook_dead_letters', { webhook: 'ops' }), 1)
  t.equal(value(e, 'ha_agent_outbox_spooled'), 4)
  t.equal(value(e, 'ha_agent_outbox_orphaned_events', { queue: 'old-hook' }), 5)
  t.equal(value(e, 'ha_agent_outbox_full'), 1)

  t.equal(value(e, 'ha_agent_split_brain', { vrrp_instance: 'VI_1' }), 1)
  t.equal(value(e, 'ha_agent_split_brain', { vrrp_instance: 'VI_2' }), 0)
  t.equal(value(e, 'ha_agent_peer_up', { peer: 'https://10.0.1.21:9471' }), 1)
  t.equal(value(e, 'ha_agent_peer_up', { peer: 'http://ha2.example.org:80' }), 0)
  t.equal(value(e, 'ha_agent_flap_damped_total'), 1)
  t.same(samples(e, 'ha_agent_flap_damped_total')[0]!.labels, {}, 'no labels')

  t.equal(value(e, 'ha_agent_maintenance'), 0, 'not in maintenance')
  t.equal(value(e, 'ha_agent_yielding'), 0)
  for (const result of ['moved', 'refused', 'failed']) t.equal(value(e, 'ha_agent_switchovers_total', { result }), 0, `switchovers ${result} from 0`)
  t.equal(value(e, 'ha_agent_config_last_reload_successful'), 1, 'no reload yet: successful')
  t.equal(value(e, 'ha_agent_config_last_reload_success_timestamp_seconds'), Date.parse(STARTED_AT) / 1000, 'the start time until a reload')
})

t.test('values follow the snapshot from scrape to scrape', async (t) => {
  let snap = baseSnapshot()
  const m = createMetrics(() => snap)
  snap = {
    ...snap,
    healthy: false,
    ready: false,
    instances: [{ name: 'VI_1', state: 'BACKUP', priority: 249, since: STARTED_AT }],
    keepalived: { up: false, pid_file: '/run/keepalived.pid', detail: 'no process 42' },
    outbox: { pending: 0, dead: 0, spooled: 0, orphaned: [], full: null },
    split_brain: [],
    track_file: null,
    reload: { ok: true, at: '2026-01-03T00:00:00.000Z', error: null },
    maintenance: { on: true, since: STARTED_AT, reason: 'kernel update' },
    yielding: true,
  }
  m.switchovers.inc({ result: 'moved' })
  let e = await scrape(m)
  t.equal(value(e, 'ha_agent_maintenance'), 1, 'in maintenance')
  t.equal(value(e, 'ha_agent_yielding'), 1, 'yielding')
  t.equal(value(e, 'ha_agent_switchovers_total', { result: 'moved' }), 1)
  t.equal(value(e, 'ha_agent_healthy'), 0)
  t.equal(value(e, 'ha_agent_ready'), 0)
  t.equal(value(e, 'ha_agent_vrrp_state', { vrrp_instance: 'VI_1', state: 'BACKUP' }), 1)
  t.equal(value(e, 'ha_agent_vrrp_state', { vrrp_instance: 'VI_1', state: 'MASTER' }), 0)
  t.same(samples(e, 'ha_agent_vrrp_state', { vrrp_instance: 'VI_2' }), [], 'a gone instance disappears')
  t.equal(value(e, 'ha_agent_vrrp_priority', { vrrp_instance: 'VI_1' }), 249)
  t.equal(value(e, 'ha_agent_keepalived_up'), 0)
  t.equal(value(e, 'ha_agent_track_file_fault'), 0)
  t.equal(value(e, 'ha_agent_outbox_full'), 0)
  t.same(samples(e, 'ha_agent_outbox_orphaned_events'), [])
  t.equal(value(e, 'ha_agent_split_brain', { vrrp_instance: 'VI_1' }), 0)
  t.equal(value(e, 'ha_agent_config_last_reload_successful'), 1)
  t.equal(value(e, 'ha_agent_config_last_reload_success_timestamp_seconds'), Date.parse('2026-01-03T00:00:00.000Z') / 1000)

  snap = { ...snap, keepalived: { up: null, pid_file: null, detail: 'not watched' }, reload: { ok: false, at: '2026-01-04T00:00:00.000Z', error: 'checks_typo: unknown key' } }
  e = await scrape(m)
  t.same(samples(e, 'ha_agent_keepalived_up'), [], 'keepalived not known: no sample')
  t.equal(e.types.get('ha_agent_keepalived_up'), 'gauge', 'but the metric is still described')
  t.equal(value(e, 'ha_agent_config_last_reload_successful'), 0, 'a rejected reload')
  t.equal(
    value(e, 'ha_agent_config_last_reload_success_timestamp_seconds'),
    Date.parse('2026-01-03T00:00:00.000Z') / 1000,
    'a rejected reload keeps the time of the last good one',
  )
})

t.test('one snapshot read per scrape', async (t) => {
  let reads = 0
  const m = createMetrics(() => (reads++, baseSnapshot()))
  await m.registry.metrics()
  t.equal(reads, 1)
  await m.registry.metrics()
  t.equal(reads, 2, 'the next scrape reads again')
})

t.test('no label named instance or job; ha_agent_ prefix; Node defaults under their usual names', async (t) => {
  const m = createMetrics(baseSnapshot)
  m.checkUp.set({ check: 'haproxy' }, 1)
  m.checkDuration.set({ check: 'haproxy' }, 0.01)
  m.transitions.inc({ vrrp_instance: 'VI_1', state: 'MASTER' })
  m.deliveries.inc({ webhook: 'ops', result: 'dead' })
  m.flapDamped.inc()
  const e = await scrape(m)
  const labelNames = new Set(e.samples.flatMap((s) => Object.keys(s.labels)))
  t.notOk(labelNames.has('instance'), 'no instance label')
  t.notOk(labelNames.has('job'), 'no job label')
  t.notOk(labelNames.has('exported_instance'))

  const families = [...e.types.keys()]
  const ours = families.filter((n) => n.startsWith('ha_agent_'))
  const others = families.filter((n) => !n.startsWith('ha_agent_'))
  t.same(others.filter((n) => !/^(process|nodejs)_/.test(n)), [], 'every other family is a Node.js default')
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'nodejs_version_info']) {
    t.ok(e.types.has(name), `${name} under its usual name`)
  }
  t.notOk(families.some((n) => n.startsWith('ha_agent_process_') || n.startsWith('ha_agent_nodejs_')), 'defaults not prefixed')
  t.notOk(e.types.has('nodejs_active_handles_total'), 'the misnamed *_total gauges are gone')
  t.ok(e.types.has('nodejs_active_handles'), 'their per-type siblings stay')
  t.same(
    ours.sort(),
    [
      'ha_agent_build_info', 'ha_agent_check_duration_seconds', 'ha_agent_check_up', 'ha_agent_config_last_reload_success_timestamp_seconds',
      'ha_agent_config_last_reload_successful', 'ha_agent_flap_damped_total', 'ha_agent_healthy', 'ha_agent_keepalived_up', 'ha_agent_maintenance', 'ha_agent_outbox_dead',
      'ha_agent_outbox_full', 'ha_agent_outbox_orphaned_events', 'ha_agent_outbox_pending', 'ha_agent_outbox_spooled', 'ha_agent_peer_up',
      'ha_agent_ready', 'ha_agent_split_brain', 'ha_agent_track_file_fault', 'ha_agent_transitions_total', 'ha_agent_vrrp_priority',
      'ha_agent_vrrp_state', 'ha_agent_webhook_dead_letters', 'ha_agent_webhook_deliveries_total', 'ha_agent_webhook_pending',
      'ha_agent_yielding', 'ha_agent_switchovers_total',
    ].sort(),
    'the documented set',
  )
  for (const name of families) t.ok(e.help.get(name), `${name} has HELP`)
  for (const [name, type] of e.types) if (type === 'counter') t.match(name, /_total$/, `counter ${name} ends in _total`)
})

t.test('secrets never reach a label', async (t) => {
  const text = await createMetrics(baseSnapshot).registry.metrics()
  for (const secret of ['hunter2', 'scraper', 's3cr3t', 'tok3n', 'k3y', 'token=']) t.notOk(text.includes(secret), `"${secret}" not in the exposition`)
  const peers = samples(parseExposition(text), 'ha_agent_peer_up').map((s) => s.labels.peer)
  t.equal(peers.length, 2)
  for (const p of peers) t.match(p, /^[a-z]+:\/\/[^/?#@]+:\d+$/, `peer label ${p} is scheme://host:port`)
})

t.test('urlLabel: scheme://host:port, nothing else', async (t) => {
  t.equal(urlLabel('http://10.0.1.21:9471'), 'http://10.0.1.21:9471')
  t.equal(urlLabel('http://10.0.1.21:9471/'), 'http://10.0.1.21:9471')
  t.equal(urlLabel(PEER_WITH_SECRETS), 'https://10.0.1.21:9471')
  t.equal(urlLabel('https://ha2.example.org/t/abc'), 'https://ha2.example.org:443', 'default port made explicit')
  t.equal(urlLabel('http://[fd00::2]:9471/x#frag'), 'http://[fd00::2]:9471')
  t.equal(urlLabel('http://user@HA2.Example.org:9471'), 'http://ha2.example.org:9471')
  t.equal(urlLabel('not a url ?token=x'), 'invalid-url', 'an unparsable URL says nothing of itself')
})
