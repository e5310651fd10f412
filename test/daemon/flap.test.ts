import t from 'tap'
import { FlapDamper } from '../../src/daemon/flap.js'

t.test('more than max changes within the window hold; a calm window releases', async (t) => {
  let now = 0
  const f = new FlapDamper(3, 60_000, () => now)
  const tick = (ms: number) => ((now += ms), f.shouldHold())
  t.same([tick(1000), tick(1000), tick(1000)].map((d) => d.hold), [false, false, false])
  const held = tick(1000)
  t.match(held, { hold: true, started: true, reason: /3 changes within 60 s \(flap_max 3\)/ })
  t.match(tick(1000), { hold: true, started: false }, 'still holding; reported once')
  t.match(tick(58_000), { hold: false }, 'the first changes left the window')
})
