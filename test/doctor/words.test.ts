// The one word splitter behind keepalived.conf, haproxy.cfg and script lines:
// what all dialects share, and what each rule changes.
import t from 'tap'
import { splitWords } from '../../src/doctor/words.js'

t.test('shared: whitespace separates, quotes join and keep spaces, "" is a word', async (t) => {
  t.same(splitWords('  a  b\tc ', {}), ['a', 'b', 'c'])
  t.same(splitWords(`ab"c d"e 'x y' ""`, {}), ['abc de', 'x y', ''])
  t.same(splitWords('a # b ! c { d } \\e', {}), ['a', '#', 'b', '!', 'c', '{', 'd', '}', '\\e'], 'no rules: nothing special but quotes')
})

t.test('rules: comments, words of their own, escapes where allowed', async (t) => {
  t.same(splitWords('a "#" b # c', { comments: '#' }), ['a', '#', 'b'])
  t.same(splitWords('x{y}', { own: '{}' }), ['x', '{', 'y', '}'])
  const outsideSingle = { escapes: (q: string | undefined) => q !== "'" }
  t.same(splitWords(`a\\ b "c\\"d" 'e\\f'`, outsideSingle), ['a b', 'c"d', 'e\\f'])
  const insideQuotes = { escapes: (q: string | undefined) => q !== undefined, escaped: { n: '\n' } }
  t.same(splitWords(`a\\n "b\\nc\\q"`, insideQuotes), ['a\\n', 'b\ncq'])
  t.same(splitWords('a\\', outsideSingle), ['a\\'], 'a backslash at the end is itself')
})
