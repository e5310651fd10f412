import t from 'tap'
import { probeSystem } from '../../src/checks/system.js'

t.test('loopback is up; 127.0.0.1 is found, a foreign VIP is only reported', async (t) => {
  const f = await probeSystem({ interface: 'lo', vips: ['127.0.0.1/8', '192.0.2.77'] })
  // loopback's operstate is "unknown" (no carrier detection) but it is administratively up
  t.equal(f.ok, true, f.detail)
  t.match(f.detail, /^interface lo up; /)
  t.match(f.data, { interface: 'lo', vips_held: ['127.0.0.1/8'] })
  t.match(f.detail, /holds 127\.0\.0\.1\/8/)
  t.notMatch(f.detail, /192\.0\.2\.77/)
})

t.test('a missing interface fails naming it', async (t) => {
  const f = await probeSystem({ interface: 'nosuch0', vips: [] })
  t.equal(f.ok, false)
  t.match(f.detail, /interface nosuch0 is missing/)
  t.match(f.data, { operstate: 'missing' })
})

t.test('VIPs alone never fail the check', async (t) => {
  const f = await probeSystem({ vips: ['192.0.2.77'] })
  t.equal(f.ok, true)
  t.equal(f.detail, 'holds no VIP')
})
