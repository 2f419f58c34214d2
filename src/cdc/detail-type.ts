/**
 * @module
 * A change event's `detail-type`: `<schema>.<table>`, with `.<op>` when the source asks for it.
 * EventBridge caps DetailType at 128 characters and identifiers can be longer together, so a
 * longer one keeps its first 119 characters, then `~` and 8 hex digits of its SHA-1 (distinct
 * tables stay distinct).
 */
import { createHash } from 'node:crypto'
import type { ChangeOp } from './model.js'

const MAX = 128

export function detailTypeOf(schema: string, table: string, op?: ChangeOp): string {
  const full = `${schema}.${table}${op === undefined ? '' : `.${op}`}`
  if (full.length <= MAX) return full
  const hash = createHash('sha1').update(full).digest('hex').slice(0, 8)
  return `${full.slice(0, MAX - 9)}~${hash}`
}
