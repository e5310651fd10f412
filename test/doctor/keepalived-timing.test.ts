import t from 'tap'
import { checkTiming, masterDownMs, skewMs } from '../../src/doctor/keepalived-timing.js'
import { kaModel, problems, shippedKeepalived, shippedLineOf } from '../fixtures/doctor.js'

const shipped = shippedKeepalived()
const run = (text: string, peer?: number) => checkTiming(kaModel(text), { peerPriority: () => peer })

t.test("the README's numbers: skew (256 - p) / 256 × advert, master-down 3 × advert + skew", async (t) => {
  t.equal(skewMs(100, 249).toFixed(2), '2.73')
  t.equal(Math.round(masterDownMs(100, 249)), 303)
  t.equal(Math.round(masterDownMs(1000, 100)), 3609, 'the guide: about 3.6 s at advert_int 1, priority 100')
})

t.test('the shipped file (250 here, 249 on the peer, VRRPv3, 0.1 s): ok, with the numbers', async (t) => {
  const f = run(shipped, 249)
  t.same(problems(f), [])
  t.match(f, [{ severity: 'ok', problem: 'VI_1: advert_int 0.1 s, backup priority 249: hand-over after a FAULT 2.7 ms, a vanished node replaced after 303 ms' }])
  t.match(run(shipped)[0]!.problem, /backup priority 250 \(this node's; the peer's is not known\)/)
})

t.test('a slow advert or low priorities: a warning with what they cost', async (t) => {
  t.match(problems(run(shipped.replace(/^(\s+)advert_int 0\.1$/m, '$1advert_int 1'), 249)), [new RegExp(`^warning keepalived\\.advert_int \\S+:${shippedLineOf('    advert_int 0.1')}: VI_1: advert_int 1 s, backup priority 249: hand-over after a FAULT 27\\.3 ms, a vanished node replaced after 3027 ms; the README promises about 3 ms and 0\\.3 s`)])
  t.match(problems(run(shipped.replace('priority 250', 'priority 101'), 100)), [/hand-over after a FAULT 60\.9 ms/])
})

t.test('VRRPv2 with a sub-second advert: keepalived uses 1 s', async (t) => {
  const v2 = problems(run(shipped.replace('vrrp_version 3', ''), 249))
  t.match(v2, [/^warning keepalived\.advert_int .*advert_int 0\.1 with VRRP version 2: VRRPv2 adverts are whole seconds, keepalived uses 1 s/, /advert_int 1 s/])
  t.same(problems(run(shipped.replace('vrrp_version 3', '').replace('priority 250', 'priority 250\n    version 3'), 249)), [], "the instance's own version counts")
})

t.test('equal priorities, priority 255, no priority, weights past 1..254', async (t) => {
  t.match(problems(run(shipped.replace('priority 250', 'priority 249'), 249)), [/^warning keepalived\.priority .*priority 249 here and on the peer/])
  t.match(problems(run(shipped.replace('priority 250', 'priority 255'), 249)), [/priority 255 \(address owner\)/])
  t.match(problems(run(shipped.replace('priority 250', ''), 249)), [/has no priority: keepalived uses 100/, /advert_int/])
  t.match(problems(run(shipped.replace('priority 250', 'priority @PRIORITY@'), 249)), [/priority @PRIORITY@ is not a number/, /advert_int/])
  t.match(problems(run(shipped.replace('weight -10', 'weight 10'), 249)), [/ranges 248\.\.260, outside keepalived's 1\.\.254/])
  t.match(problems(run(shipped.replace('priority 250', 'priority 5'), 4)), [/advert_int/, /ranges -7\.\.5/])
})
