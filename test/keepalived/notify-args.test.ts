import t from 'tap'
import { parseFifoLine, parseNotifyArgs } from '../../src/keepalived/index.js'
import { UsageError } from '../../src/errors/index.js'

t.test('generic notify form', async (t) => {
  t.same(parseNotifyArgs(['INSTANCE', 'VI_1', 'MASTER', '250']), { kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 250 })
  t.same(parseNotifyArgs(['GROUP', 'G1', 'backup']), { kind: 'GROUP', instance: 'G1', state: 'BACKUP', priority: null })
})

t.test('notify_master style', async (t) => {
  t.same(parseNotifyArgs(['fault', 'VI_1']), { kind: 'INSTANCE', instance: 'VI_1', state: 'FAULT', priority: null })
  t.same(parseNotifyArgs(['master']), { kind: 'INSTANCE', instance: 'default', state: 'MASTER', priority: null })
})

t.test('bad input names the bad argument', async (t) => {
  t.throws(() => parseNotifyArgs([]), UsageError)
  t.throws(() => parseNotifyArgs(['INSTANCE', 'VI_1', 'SLEEPY']), /STATE "SLEEPY" is not a VRRP state/)
  t.throws(() => parseNotifyArgs(['INSTANCE', 'VI_1', 'MASTER', '300']), /PRIORITY "300"/)
  t.throws(() => parseNotifyArgs(['INSTANCE', 'VI_1']), /needs a STATE/)
  t.throws(() => parseNotifyArgs(['wat']), /first argument "wat"/)
})

t.test('notify_fifo lines', async (t) => {
  t.same(parseFifoLine('INSTANCE "VI_1" MASTER 250'), { kind: 'INSTANCE', instance: 'VI_1', state: 'MASTER', priority: 250 })
  t.same(parseFifoLine('GROUP "G" FAULT'), { kind: 'GROUP', instance: 'G', state: 'FAULT', priority: null })
  t.equal(parseFifoLine('INSTANCE "VI_1" MASTER_RX_LOWER_PRI 250'), null)
  t.equal(parseFifoLine('VS [10.0.0.1]:tcp:80 UP'), null)
  t.equal(parseFifoLine(''), null)
})
