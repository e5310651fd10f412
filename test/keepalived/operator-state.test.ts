// What an operator asked of the node, under state_dir: durable, and read the
// safe way when it cannot be read.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keepYieldFile, MAINTENANCE_OFF, readMaintenance, readYield, writeMaintenance, writeYield } from '../../src/keepalived/index.js'

const fresh = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-opstate-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('maintenance: off until written, on with its since and reason, 0640', async (t) => {
  const dir = fresh(t)
  t.same(readMaintenance(dir), MAINTENANCE_OFF)
  writeMaintenance(dir, { on: true, since: '2026-01-02T03:04:05.000Z', reason: 'kernel', was_master: true })
  t.same(readMaintenance(dir), { on: true, since: '2026-01-02T03:04:05.000Z', reason: 'kernel', was_master: true })
  t.equal(statSync(join(dir, 'maintenance.json')).mode & 0o777, 0o640)
  writeMaintenance(dir, MAINTENANCE_OFF)
  t.same(readMaintenance(dir), MAINTENANCE_OFF)
})

t.test('a maintenance file that cannot be read counts as on (the safe reading), saying why', async (t) => {
  const dir = fresh(t)
  writeFileSync(join(dir, 'maintenance.json'), '{"on": tr')
  t.match(readMaintenance(dir), { on: true, reason: /is not JSON \(counted as maintenance on\)/ })
  writeFileSync(join(dir, 'maintenance.json'), '{"reason": "x"}')
  t.match(readMaintenance(dir), { on: true, reason: /holds no "on"/ })
})

t.test('yield: stored, read back; an unreadable one is no yield', async (t) => {
  const dir = fresh(t)
  t.same(readYield(dir), { yielding: false, since: null, reason: null })
  writeYield(dir, { yielding: true, since: 's', reason: 'switchover to ha2' })
  t.same(readYield(dir), { yielding: true, since: 's', reason: 'switchover to ha2' })
  writeFileSync(join(dir, 'yield.json'), 'garbage')
  t.equal(readYield(dir).yielding, false)
})

t.test('keepYieldFile: the yield file follows what is stored, written only when it differs', async (t) => {
  const dir = fresh(t)
  const file = join(dir, 'run', 'yield')
  t.equal(keepYieldFile(file, dir), true, 'missing: written')
  t.equal(readFileSync(file, 'utf8'), '0\n')
  t.equal(keepYieldFile(file, dir), false)
  writeYield(dir, { yielding: true, since: null, reason: null })
  t.equal(keepYieldFile(file, dir), true)
  t.equal(readFileSync(file, 'utf8'), '1\n')
})
