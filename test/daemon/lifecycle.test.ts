// The daemon's parts: started in order, stopped in reverse, all or nothing; a
// reload builds the changed parts beside the running ones before letting go.
import t from 'tap'
import { buildConfig, type AgentConfig } from '../../src/config/index.js'
import { PartGroup, type Part } from '../../src/daemon/lifecycle.js'
import { PartError } from '../../src/errors/index.js'

const config = (listen: string | null, heartbeat: string | null = null): AgentConfig => buildConfig({ api: { listen }, heartbeat }, null, { env: {} })

function recorder() {
  const log: string[] = []
  const part = (name: string, key: (c: AgentConfig) => unknown, opts: { failOn?: (c: AgentConfig) => boolean } = {}): Part => ({
    name,
    key,
    async start(c) {
      if (opts.failOn?.(c)) {
        log.push(`fail ${name}`)
        throw new Error(`${name} says no`)
      }
      const id = `${name}@${JSON.stringify(key(c))}`
      log.push(`start ${id}`)
      return { service: id, stop: async () => void log.push(`stop ${id}`), update: (n) => void log.push(`update ${name} ${n.api.listen}`) }
    },
  })
  return { log, part }
}

t.test('start in order, stop in reverse', async (t) => {
  const { log, part } = recorder()
  const g = new PartGroup([part('a', () => 1), part('b', () => 2), part('c', () => 3)])
  await g.start(config('127.0.0.1:1'))
  t.equal(g.service('b'), 'b@2')
  await g.stop()
  t.same(log, ['start a@1', 'start b@2', 'start c@3', 'stop c@3', 'stop b@2', 'stop a@1'])
  t.equal(g.service('b'), undefined, 'nothing runs after stop')
})

t.test('a part that cannot start stops the started ones in reverse; the error names it', async (t) => {
  const { log, part } = recorder()
  const g = new PartGroup([part('a', () => 1), part('api', () => 2, { failOn: () => true }), part('c', () => 3)])
  const err = await g.start(config('127.0.0.1:1')).catch((e) => e)
  t.type(err, PartError)
  t.equal(err.part, 'api')
  t.equal(err.message, 'cannot start api: api says no')
  t.same(log, ['start a@1', 'fail api', 'stop a@1'], 'c never started; a stopped')
})

t.test('reload: unchanged parts are kept and updated, changed ones start beside the old before it stops', async (t) => {
  const { log, part } = recorder()
  const g = new PartGroup([part('loop', () => 'same'), part('api', (c) => c.api.listen), part('cron', (c) => c.heartbeat)])
  await g.start(config('127.0.0.1:1'))
  log.length = 0
  let committed = false
  const restarted = await g.reload(config('127.0.0.1:2'), () => {
    committed = true
    log.push('commit')
  })
  t.ok(committed)
  t.same(restarted, ['api'])
  t.same(log, ['start api@"127.0.0.1:2"', 'commit', 'update loop 127.0.0.1:2', 'update cron 127.0.0.1:2', 'stop api@"127.0.0.1:1"'])
  t.equal(g.service('api'), 'api@"127.0.0.1:2"')
})

t.test('reload that cannot run: the new parts stop, nothing is committed, the old ones run on whole', async (t) => {
  const { log, part } = recorder()
  const g = new PartGroup([
    part('api', (c) => c.api.listen),
    part('cron', (c) => c.heartbeat, { failOn: (c) => c.heartbeat === 'bad' }),
  ])
  await g.start(config('127.0.0.1:1'))
  log.length = 0
  const err = await g.reload(config('127.0.0.1:2', 'bad'), () => t.fail('must not commit')).catch((e) => e)
  t.type(err, PartError)
  t.equal(err.part, 'cron')
  t.same(log, ['start api@"127.0.0.1:2"', 'fail cron', 'stop api@"127.0.0.1:2"'], 'the new api stopped; the old api never did')
  t.equal(g.service('api'), 'api@"127.0.0.1:1"', 'the old one still serves')
  log.length = 0
  await g.stop()
  t.same(log, ['stop cron@null', 'stop api@"127.0.0.1:1"'])
})
