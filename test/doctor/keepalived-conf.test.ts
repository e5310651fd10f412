import t from 'tap'
import { checkKeepalivedConf } from '../../src/doctor/keepalived-conf.js'
import { agentConfig, kaModel, problems, SHIPPED_CHECK_TIMEOUT, shippedKeepalived, shippedLineOf } from '../fixtures/doctor.js'

const shipped = shippedKeepalived()
const peer249 = { peerPriority: () => 249 }
const run = (text: string, config = agentConfig(), opts = peer249) => checkKeepalivedConf(kaModel(text), config, opts)

t.test('the shipped keepalived.conf with the shipped config: nothing to say but ok', async (t) => {
  const f = run(shipped)
  t.same(problems(f), [])
  t.same(f.map((x) => x.check), ['keepalived.track_file', 'keepalived.yield_file', 'keepalived.vrrp_script', 'keepalived.notify'])
  t.match(f[0], { severity: 'ok', where: `/etc/keepalived/keepalived.conf:${shippedLineOf('ha_agent_fault weight 0')}` })
  t.same(problems(checkKeepalivedConf(kaModel(shippedKeepalived({ fifo: true })), agentConfig({ keepalived: { track_file: '/run/ha-agent/fault', notify_fifo: '/run/ha-agent/keepalived.fifo' } }), peer249)), [], 'and the FIFO variant with notify_fifo set')
})

t.test('track_file: the path differs from keepalived.track_file', async (t) => {
  const p = problems(run(shipped.replace('file "/run/ha-agent/fault"', 'file "/run/ha-agent/fault.other"')))
  t.match(p, [new RegExp(`^error keepalived\\.track_file \\/etc\\/keepalived\\/keepalived\\.conf:${shippedLineOf('track_file ha_agent_fault {')}: track_file ha_agent_fault watches \\/run\\/ha-agent\\/fault\\.other, but the agent writes \\/run\\/ha-agent\\/fault`)])
  t.equal(p.length, 1)
  const none = problems(run(shipped.replace(/track_file ha_agent_fault \{[^}]*\}/, '')))
  t.match(none, [/^error keepalived\.track_file .*no track_file block watches \/run\/ha-agent\/fault/])
})

t.test('track_file: a weight other than 0 is a priority drop (the master-down wait), no weight is +1', async (t) => {
  const drop = problems(run(shipped.replace('ha_agent_fault weight 0', 'ha_agent_fault weight -50')))
  t.match(drop, [new RegExp(`^error keepalived\\.track_file \\S+:${shippedLineOf('ha_agent_fault weight 0')}: ha_agent_fault has weight -50: a fault lowers the priority by 50 instead of FAULT: the peer then waits the master-down interval \\(303 ms\\) instead of its skew time \\(2\\.7 ms\\)`)])
  const missing = problems(run(shipped.replace('ha_agent_fault weight 0', 'ha_agent_fault')))
  t.match(missing, [/weight 1 \(keepalived's default\): a fault adds 1 to the priority \(it keeps the VIP\)/], 'the default weight 1 makes a fault raise the priority')
  const untracked = problems(run(shipped.replace('ha_agent_fault weight 0', '')))
  t.match(untracked, [new RegExp(`^error keepalived\\.track_file \\S+:${shippedLineOf('vrrp_instance VI_1 {')}: vrrp_instance VI_1 does not track ha_agent_fault`)])
  t.match(problems(run(shipped.replace('ha_agent_fault weight 0', 'ha_agent_fault weight 0 reverse'))), [/tracked with reverse/])
})

t.test('track_file through a sync group counts for its members', async (t) => {
  const grouped = shipped.replace('ha_agent_fault weight 0', '') + '\nvrrp_sync_group G {\n  group {\n    VI_1\n  }\n  track_file {\n    ha_agent_fault weight 0\n  }\n}\n'
  t.same(problems(run(grouped)), [])
})

t.test('the yield file (keepalived.yield_file): a negative weight that takes this node below its peer', async (t) => {
  const base = agentConfig()
  t.equal(base.keepalived?.yield_file, '/run/ha-agent/yield', 'the default the shipped keepalived.conf tracks')
  t.match(run(shipped).find((f) => f.check === 'keepalived.yield_file'), { severity: 'ok', where: `/etc/keepalived/keepalived.conf:${shippedLineOf('ha_agent_yield weight -2')}` })
  t.match(problems(run(shipped.replace('ha_agent_yield weight -2', 'ha_agent_yield weight -1'))), [/^error keepalived\.yield_file .*lowers VI_1 from 250 to 249, not below the peer's 249: a yielding node still wins/])
  const old20 = run(shipped.replace('ha_agent_yield weight -2', 'ha_agent_yield weight -20'))
  t.match(problems(old20), [/^warning keepalived\.yield_file .*weight -20 takes VI_1 to 230: a switchover back to this node waits its skew time, 10\.2 ms, with no node answering/], 'the old -20: works, with a slower hand-back')
  t.match(old20.find((f) => f.check === 'keepalived.yield_file'), { fix: 'weight -2: just below the peer, no lower' })
  t.same(problems(run(shipped.replace('ha_agent_yield weight -2', 'ha_agent_yield weight -10'))), [], '-10: 240, a 6.3 ms skew, within the promise')
  const slow = shipped.replace(/advert_int 0\.1/g, 'advert_int 1').replace('ha_agent_yield weight -2', 'ha_agent_yield weight -20')
  t.notOk(problems(run(slow)).some((p) => p.includes('keepalived.yield_file')), 'advert_int 1: no weight keeps the 10 ms, so the yield file is not blamed (keepalived.advert_int says it)')
  t.match(problems(run(shipped.replace('ha_agent_yield weight -2', 'ha_agent_yield weight 5'))), [/^error keepalived\.yield_file .*has weight 5: writing 1 to \/run\/ha-agent\/yield does not lower the priority/])
  t.match(problems(run(shipped.replace('ha_agent_yield weight -2', ''))), [/^error keepalived\.yield_file .*does not track ha_agent_yield .*switchover cannot lower this node/])
  const noBlock = shipped.replace(/track_file ha_agent_yield \{[^}]*\}/, '').replace('ha_agent_yield weight -2', '')
  t.match(problems(run(noBlock)), [/^error keepalived\.yield_file .*no track_file block watches \/run\/ha-agent\/yield/])
  const off = agentConfig({ keepalived: { ...base.keepalived!, yield_file: null } } as never)
  t.same(problems(run(noBlock, off)), [], 'yield_file: null (no switchover): not checked')
})

t.test('vrrp_script: none, untracked, a timeout not above --timeout + 200 ms, weight 0', async (t) => {
  t.match(problems(run(shipped.replace(`/usr/bin/ha-agent check --timeout ${SHIPPED_CHECK_TIMEOUT}`, '/usr/bin/killall -0 haproxy'))), [/^error keepalived\.vrrp_script .*no vrrp_script runs `ha-agent check`/])
  t.match(problems(run(shipped.replace(/track_script \{\s*chk_ha_agent\s*\}/, ''))), [/vrrp_script chk_ha_agent is tracked by no vrrp_instance: keepalived never runs it/])
  const tight = problems(run(shipped.replace('timeout 2', 'timeout 1')))
  t.match(tight, [new RegExp(`^error keepalived\\.vrrp_script \\S+:${shippedLineOf('vrrp_script chk_ha_agent')}: vrrp_script chk_ha_agent: timeout 1 s, but \`ha-agent check\` may take ${SHIPPED_CHECK_TIMEOUT} ms \\(--timeout\\) \\+ 200 ms: keepalived kills it first`)])
  t.match(problems(run(shipped.replace('timeout 2', '').replace(`--timeout ${SHIPPED_CHECK_TIMEOUT}`, ''), agentConfig({ checks: { timeout_ms: 1000 } }))), [/no timeout \(keepalived then uses the interval, 1 s\), but `ha-agent check` may take 1000 ms \(--timeout, from checks\.timeout_ms\)/])
  t.match(problems(run(shipped.replace(`--timeout ${SHIPPED_CHECK_TIMEOUT}`, '--timeout=1900'))), [/may take 1900 ms \(--timeout\) \+ 200 ms/], '--timeout=MS counts too')
  t.match(problems(run(shipped.replace('timeout 2', 'timeout 0.5'))), [/timeout 1 s/], 'keepalived reads whole seconds, at least 1')
  t.match(problems(run(shipped.replace('weight -10', ''))), [/^error keepalived\.vrrp_script .*weight 0 \(keepalived's default\) in VI_1: a failing deep check is a FAULT/])
  t.match(problems(run(shipped.replace('weight -10', 'weight -1'))), [/^warning keepalived\.vrrp_script .*weight -1 is no more than the priority difference/])
  t.same(problems(run(shipped.replace('weight -10', 'weight 0').replace(/chk_ha_agent\n(\s*)\}/, 'chk_ha_agent weight -10\n$1}'))), [], "the track_script entry's weight wins over the script's")
})

t.test('notify: none, extra arguments, a partial set, the FIFO matched, mismatched, or both', async (t) => {
  t.match(problems(run(shipped.replace('notify "/usr/bin/ha-agent notify"', ''))), [new RegExp(`^error keepalived\\.notify \\S+:${shippedLineOf('vrrp_instance VI_1 {')}: vrrp_instance VI_1: no notify calls \`ha-agent notify\` and no notify FIFO goes to the daemon: transitions are not reported`)])
  t.match(problems(run(shipped.replace('notify "/usr/bin/ha-agent notify"', 'notify "/usr/bin/ha-agent notify INSTANCE VI_1"'))), [/notify passes INSTANCE VI_1 after `ha-agent notify`/])
  t.match(problems(run(shipped.replace('notify "/usr/bin/ha-agent notify"', 'notify_master "/usr/bin/ha-agent notify master"\n notify_backup "/usr/bin/ha-agent notify backup"'))), [/^warning .*for notify_master, notify_backup only: notify_fault, notify_stop transitions go unreported/])
  const fifoCfg = agentConfig({ keepalived: { track_file: '/run/ha-agent/fault', notify_fifo: '/run/ha-agent/keepalived.fifo' } })
  t.match(problems(run(shipped, fifoCfg)), [/^error keepalived\.notify .*the daemon reads transitions from \/run\/ha-agent\/keepalived\.fifo \(keepalived\.notify_fifo\), but keepalived writes to no notify FIFO/])
  const fifoText = shippedKeepalived({ fifo: true })
  t.match(problems(run(fifoText)), [/^error keepalived\.notify .*keepalived writes transitions to \/run\/ha-agent\/keepalived\.fifo, which the daemon does not read \(keepalived\.notify_fifo: null\): transitions are not reported/, /no notify calls/])
  const both = fifoText.replace('# Transitions go through vrrp_notify_fifo (global_defs): no notify script.', 'notify "/usr/bin/ha-agent notify"')
  t.match(problems(run(both, fifoCfg)), [/^warning keepalived\.notify .*both through notify and the notify FIFO: each is recorded twice/])
})

t.test('no vrrp_instance at all', async (t) => {
  t.match(problems(run('global_defs {\n}\n')), [/^error keepalived\.instances \/etc\/keepalived\/keepalived\.conf:1: no vrrp_instance/])
})
