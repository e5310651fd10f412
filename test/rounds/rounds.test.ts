// The loop of rounds behind the deep checks and the peer polls: never
// overlapping, a delay after each round, hurried on demand, going on after a
// failed round, silent after stop. Real timers, delays far apart (ms vs 10 s),
// so a busy machine cannot turn one case into another.
import t from 'tap'
import { startRoundLoop } from '../../src/rounds/index.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const until = async (what: string, ok: () => boolean, ms = 3000) => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

t.test('rounds run one at a time, each a delay after the last one ended', async (t) => {
  const spans: Array<[number, number]> = []
  let open = 0
  let overlapped = false
  const loop = startRoundLoop({
    round: async () => {
      if (open++) overlapped = true
      const start = Date.now()
      await sleep(30)
      spans.push([start, Date.now()])
      open--
    },
    delay: () => 40,
    onError: () => t.fail('no error expected'),
  })
  await until('4 rounds', () => spans.length >= 4)
  loop.stop()
  t.notOk(overlapped, 'never two rounds at once')
  for (let i = 1; i < spans.length; i++) t.ok(spans[i]![0] - spans[i - 1]![1] >= 35, `round ${i + 1} began ${spans[i]![0] - spans[i - 1]![1]} ms after round ${i} ended`)
})

t.test('hurry: a pending 10 s wait is brought forward; a round under way is followed by a fast one', async (t) => {
  let rounds = 0
  let release: () => void = () => {}
  const loop = startRoundLoop({
    round: () => {
      rounds++
      return rounds === 2 ? new Promise<void>((r) => (release = r)) : Promise.resolve()
    },
    delay: () => 10_000,
    onError: () => {},
  })
  t.teardown(() => loop.stop())
  await sleep(20)
  t.equal(rounds, 1, 'the first round ran at once, the next waits 10 s')
  loop.hurry(10)
  await until('the hurried round', () => rounds === 2)
  // round 2 is under way: hurry now means "right after it"
  loop.hurry(10)
  release()
  await until('the round after the hurried one', () => rounds === 3)
  await sleep(100)
  t.equal(rounds, 3, 'then the usual 10 s delay again')
})

t.test('fastFromStart: a hurried round follows a round that ran past the fast delay at once, a quick one after the rest of it', async (t) => {
  for (const fastFromStart of [true, false]) {
    const spans: Array<[number, number]> = []
    let slow = true
    let loop: ReturnType<typeof startRoundLoop> | undefined
    loop = startRoundLoop({
      round: async () => {
        const start = Date.now()
        if (spans.length === 1) loop!.hurry(100) // asked during the round, as a failing round's decision does
        if (slow && spans.length === 1) await sleep(250)
        spans.push([start, Date.now()])
      },
      delay: () => (spans.length === 1 ? 5 : 10_000),
      fastFromStart,
      onError: () => t.fail('no error expected'),
    })
    await until('3 rounds', () => spans.length >= 3, 3000)
    loop.stop()
    const gap = spans[2]![0] - spans[1]![1]
    if (fastFromStart) t.ok(gap < 60, `fastFromStart: the round after a 250 ms round began ${gap} ms after it ended (its 100 ms were over)`)
    else t.ok(gap >= 95, `without it: ${gap} ms after the round ended (the whole fast delay again)`)
    slow = false
  }
  // a quick round: the fast delay still holds, counted from its start
  const spans: Array<[number, number]> = []
  let loop: ReturnType<typeof startRoundLoop> | undefined
  loop = startRoundLoop({
    round: async () => {
      const start = Date.now()
      if (spans.length === 1) loop!.hurry(100)
      await sleep(20)
      spans.push([start, Date.now()])
    },
    delay: () => (spans.length === 1 ? 5 : 10_000),
    fastFromStart: true,
    onError: () => t.fail('no error expected'),
  })
  await until('3 rounds', () => spans.length >= 3, 3000)
  loop.stop()
  const fromStart = spans[2]![0] - spans[1]![0]
  t.ok(fromStart >= 95 && fromStart < 250, `a 20 ms round: the next began ${fromStart} ms after its start (100 ms asked)`)
})

t.test('hurry never postpones: a round due sooner than the fast delay stays due', async (t) => {
  let rounds = 0
  const loop = startRoundLoop({ round: async () => void rounds++, delay: () => 30, onError: () => {} })
  t.teardown(() => loop.stop())
  await until('first round', () => rounds === 1)
  loop.hurry(10_000)
  await until('the round due after 30 ms', () => rounds === 2, 2000)
  t.equal(rounds, 2, 'the 30 ms round came although hurry(10000) was asked in between')
})

t.test('a round that throws is reported and the loop goes on; nothing runs after stop', async (t) => {
  const errors: unknown[] = []
  let rounds = 0
  const loop = startRoundLoop({
    round: async () => {
      rounds++
      if (rounds === 1) throw new Error('boom')
    },
    delay: () => 10,
    onError: (err) => errors.push(err),
  })
  await until('the round after the failed one', () => rounds >= 2)
  t.match(errors, [{ message: 'boom' }])
  loop.stop()
  const at = rounds
  loop.hurry(1)
  await sleep(100)
  t.equal(rounds, at, 'stopped: neither the timer nor hurry starts a round')
})
