/**
 * @module
 * The first check on an archive query, before SQLite sees it: statements that change what the
 * connection can reach (`ATTACH`, `DETACH`, `PRAGMA`, `VACUUM`) and `load_extension` are refused
 * wherever they appear outside string literals and comments (even as a quoted identifier). The
 * query then runs only if SQLite reports it read-only, one statement, returning rows
 * (`query-child.ts`); this list only catches what those checks would let through.
 */

const REFUSED_WORDS = new Set(['attach', 'detach', 'pragma', 'vacuum', 'load_extension'])

/** Why the query is refused, or undefined when it may be prepared. */
export function refusal(sql: string): string | undefined {
  if (sql.trim() === '') return 'The query is empty.'
  for (const word of words(sql)) {
    const w = word.toLowerCase()
    if (REFUSED_WORDS.has(w)) return `${w.toUpperCase()} is not allowed in a query.`
  }
  return undefined
}

/** The identifiers and keywords of `sql`, quoted identifiers unquoted; literals and comments skipped. */
export function words(sql: string): string[] {
  const out: string[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? n : end + 1
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else if (c === "'") {
      i = closing(sql, i, "'")
    } else if (c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c
      const end = closing(sql, i, close)
      out.push(sql.slice(i + 1, end - 1).replaceAll(close + close, close))
      i = end
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++
      out.push(sql.slice(i, j))
      i = j
    } else i++
  }
  return out
}

/** The index after the quote closing the one at `start` (a doubled quote is part of the text). */
function closing(sql: string, start: number, quote: string): number {
  let i = start + 1
  for (;;) {
    const at = sql.indexOf(quote, i)
    if (at < 0) return sql.length
    if (quote !== ']' && sql[at + 1] === quote) {
      i = at + 2
      continue
    }
    return at + 1
  }
}
