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
  for (const p of ['', '0x10', '1e2', ' 7', '-1', '2.0', '0256']) t.throws(() => parseNotifyArgs(['INSTANCE', 'VI_1', 'MASTER', p]), /is not a decimal 0-255/, `PRIORITY ${JSON.stringify(p)}`)
  t.equal(parseNotifyArgs(['INSTANCE', 'VI_1', 'MASTER', '007']).priority, 7)
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

t.test('notify_fifo lines that are not transitions are ignored, names may hold spaces', async (t) => {
  // keepalived.conf(5): priority changes with notify_priority_changes, and LVS checker lines.
  t.equal(parseFifoLine('INSTANCE "VI_1" MASTER_PRIORITY 150'), null)
  t.equal(parseFifoLine('INSTANCE "VI_1" BACKUP_PRIORITY 90'), null)
  t.equal(parseFifoLine('RS [1.2.3.4]:tcp:80 [192.168.201.15]:tcp:80 DOWN'), null)
  t.equal(parseFifoLine('garbage'), null)
  t.same(parseFifoLine('INSTANCE "web vip" backup 90\r'), { kind: 'INSTANCE', instance: 'web vip', state: 'BACKUP', priority: 90 })
  t.same(parseFifoLine('INSTANCE "VI_1" DELETED 0'), { kind: 'INSTANCE', instance: 'VI_1', state: 'DELETED', priority: 0 })
})

t.test('more argument checks', async (t) => {
  t.same(parseNotifyArgs(['instance', 'VI_1', 'stop', '0']), { kind: 'INSTANCE', instance: 'VI_1', state: 'STOP', priority: 0 })
  t.throws(() => parseNotifyArgs(['INSTANCE', 'VI_1', 'MASTER', '100', 'extra']), /unexpected argument "extra"/)
  t.throws(() => parseNotifyArgs(['master', 'VI_1', 'extra']), /unexpected argument "extra"/)
  t.throws(() => parseNotifyArgs(['INSTANCE', 'VI_1', 'MASTER', 'high']), /PRIORITY "high"/)
  t.throws(() => parseNotifyArgs(['GROUP']), /GROUP needs a NAME/)
})
