// A line split into words as keepalived.conf, haproxy.cfg and keepalived's
// script lines split them: whitespace outside quotes separates words; "..." and
// '...' quote (the quotes go, the spaces stay: `ab"c d"e` is one word, `""` an
// empty one). What differs between them (comments, escapes, characters that are
// words of their own) is each one's WordRules.

export interface WordRules {
  /** characters that start a comment outside quotes, to the end of the line */
  comments?: string
  /** characters that are words of their own outside quotes, wherever they stand */
  own?: string
  /** whether `\` escapes the next character, inside the quote given (undefined: outside quotes); never when absent */
  escapes?: (quote: string | undefined) => boolean
  /** what an escaped character stands for; one not listed stands for itself */
  escaped?: Readonly<Record<string, string>>
}

export function splitWords(line: string, rules: WordRules): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === '\\' && i + 1 < line.length && rules.escapes?.(quote)) {
      const e = line[++i]!
      word = (word ?? '') + (rules.escaped?.[e] ?? e)
    } else if (quote) {
      if (c === quote) quote = undefined
      else word += c
    } else if (c === '"' || c === "'") {
      quote = c
      word ??= ''
    } else if (rules.comments?.includes(c)) break
    else if (rules.own?.includes(c)) {
      if (word !== undefined) words.push(word)
      words.push(c)
      word = undefined
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else word = (word ?? '') + c
  }
  if (word !== undefined) words.push(word)
  return words
}
