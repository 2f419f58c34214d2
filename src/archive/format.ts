/**
 * @module
 * A query's rows as text: an aligned table, JSON (`{"columns":[…],"rows":[[…]],"truncated":…}`)
 * or CSV (RFC 4180: a header line, fields quoted when they hold a comma, quote or line break).
 */
import type { QueryResult } from './query.js'

export type QueryFormat = 'table' | 'json' | 'csv'
export const QUERY_FORMATS: readonly QueryFormat[] = ['table', 'json', 'csv']

export function formatResult(result: QueryResult, format: QueryFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(result)}\n`
    case 'csv':
      return (
        [result.columns, ...result.rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n'
      )
    case 'table':
      return table(result)
  }
}

function text(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  return typeof v === 'number' || typeof v === 'bigint' ? v.toString() : JSON.stringify(v)
}

function csvField(v: unknown): string {
  const s = text(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

function table(result: QueryResult): string {
  const cells = result.rows.map((r) => r.map((v) => (v === null ? 'NULL' : text(v))))
  const widths = result.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd()
  const out = [
    line(result.columns),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...cells.map(line),
  ]
  const n = result.rows.length
  out.push(`(${String(n)} row${n === 1 ? '' : 's'}${result.truncated ? ', more not shown' : ''})`)
  return `${out.join('\n')}\n`
}
