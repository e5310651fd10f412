import t from 'tap'
import { callsHaAgent, checkTimeoutArg, notifiesOf, trackedFiles } from '../../src/doctor/keepalived-model.js'
import { kaModel, SHIPPED_CHECK_TIMEOUT, shippedKeepalived } from '../fixtures/doctor.js'

t.test('the shipped file as doctor sees it, with keepalived\'s defaults where nothing is written', async (t) => {
  const m = kaModel(shippedKeepalived())
  t.match(m.scriptUser, { user: 'ha-agent' })
  t.match(m.vrrpVersion, { version: 3 })
  t.match(m.trackFiles, [{ name: 'ha_agent_fault', file: '/run/ha-agent/fault', weight: 1 }], "the block has no weight: keepalived's 1")
  t.match(m.scripts, [{ name: 'chk_ha_agent', argv: ['/usr/bin/ha-agent', 'check', '--timeout', String(SHIPPED_CHECK_TIMEOUT)], interval: 1, timeout: 2, weight: -10 }])
  t.match(m.instances, [{ name: 'VI_1', priority: 250, advertInt: 0.1, version: 3 }])
  t.match(trackedFiles(m.instances[0]!), [{ name: 'ha_agent_fault', weight: 0, reverse: false }])
  t.match(notifiesOf(m.instances[0]!), [{ kind: 'notify', argv: ['/usr/bin/ha-agent', 'notify'] }])
  const bare = kaModel('vrrp_script s {\n  script "/x"\n}\ntrack_file f {\n  file /y\n}\n')
  t.match(bare.scripts, [{ weight: 0, interval: undefined, timeout: undefined }], "a script's default weight is 0")
  t.match(bare.trackFiles, [{ weight: 1 }])
  t.match(kaModel('vrrp_script s {\n  interval 0.5\n  timeout 2.9\n}\n').scripts, [{ interval: 1, timeout: 2 }], 'whole seconds, at least 1, as keepalived reads them')
  t.match(kaModel('vrrp_track_file f {\n  file /y\n  weight -5\n}\n').trackFiles, [{ name: 'f', weight: -5 }], 'vrrp_track_file, the old name')
  t.match(kaModel('vrrp_sync_group G {\n  group {\n    VI_1\n  }\n  notify "/usr/bin/ha-agent notify"\n}\nvrrp_instance VI_1 {\n}\n').instances[0]!.group, { name: 'G', members: ['VI_1'] })
})

t.test('ha-agent commands in an argv: the launcher or the bundle; --timeout in both spellings', async (t) => {
  t.ok(callsHaAgent(['/usr/bin/ha-agent', 'check'], 'check'))
  t.ok(callsHaAgent(['/usr/bin/node', '/usr/lib/ha-agent/ha-agent.js', 'notify'], 'notify'))
  t.notOk(callsHaAgent(['/usr/bin/ha-agent-other', 'check'], 'check'))
  t.notOk(callsHaAgent(['/usr/bin/ha-agent', 'status'], 'check'))
  t.equal(checkTimeoutArg(['x', 'check', '--timeout', '800']), 800)
  t.equal(checkTimeoutArg(['x', 'check', '--timeout=700']), 700)
  t.equal(checkTimeoutArg(['x', 'check', '--timeout', 'soon']), undefined)
})
