// The frontends' sessions: summed from `show stat` (client frontends only), and
// sampled again and again on one held connection in prompt mode.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { openSessionSampler, sumSessions } from '../../src/haproxy/index.js'
import { fakeRuntimeApi } from '../fixtures/haproxy.js'

const HEADER = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,type,mode'
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n'

t.test('sumSessions: FRONTEND rows that are not mode http, or the named frontends', async (t) => {
  const text = csv('postgres,FRONTEND,,,2,5,4000,100,OPEN,0,tcp', 'other,FRONTEND,,,1,1,4000,7,OPEN,0,tcp', 'stats,FRONTEND,,,4,4,4000,50,OPEN,0,http', 'pgbouncers,BACKEND,0,0,2,5,,100,UP,1,tcp')
  t.same(sumSessions(text), { scur: 3, stot: 107 }, 'the stats page (http) and backends do not count')
  t.same(sumSessions(text, ['postgres']), { scur: 2, stot: 100 })
  t.same(sumSessions(readFileSync(new URL('fixtures/show-stat-2.6.csv', import.meta.url), 'utf8')), { scur: 0, stot: 0 }, "HAProxy 2.6's own answer")
  t.throws(() => sumSessions('Permission denied\n'), /not a "show stat" answer/)
})

t.test('the sampler holds one connection and asks again and again', async (t) => {
  let scur = 0
  const answers = {
    get 'show stat -1 1 -1'() {
      return csv(`postgres,FRONTEND,,,${scur},5,4000,${10 + scur},OPEN,0,tcp`).trimEnd()
    },
  }
  const api = await fakeRuntimeApi(t, answers as unknown as Record<string, string>)
  const sampler = openSessionSampler({ socket: api.socket, timeoutMs: 1000 })
  t.teardown(() => sampler.close())
  t.same(await sampler.sample(), { scur: 0, stot: 10 })
  scur = 2
  t.same(await sampler.sample(), { scur: 2, stot: 12 })
  t.same(api.asked, ['prompt', 'show stat -1 1 -1', 'show stat -1 1 -1'], 'prompt once, then the command on the same connection')
})

t.test('no socket, or no answer in time: sample rejects naming the socket', async (t) => {
  const gone = openSessionSampler({ socket: '/nonexistent/ha.sock', timeoutMs: 200 })
  await t.rejects(gone.sample(), /\/nonexistent\/ha\.sock: ENOENT/)
  gone.close()
  const api = await fakeRuntimeApi(t, {})
  const mute = openSessionSampler({ socket: api.socket, timeoutMs: 100 })
  // the stand-in answers "Unknown command" to show stat: not a show stat answer
  await t.rejects(mute.sample(), /not a "show stat" answer/)
  mute.close()
})
