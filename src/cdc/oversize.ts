/**
 * @module
 * A source's oversize policy (`SourceDefinition.oversize`), applied to a change whose event would
 * exceed the bus's event size limit. The size counted is the detail's JSON plus the envelope's
 * other fields (a fixed allowance), as PutEvents counts an entry.
 */
import { NeedsOperator } from './failure.js'
import { detailText } from './detail-text.js'
import type { Change, OversizePolicy } from './model.js'

/** Room for the envelope around the detail (id, source, detail-type, times, account…). */
const ENVELOPE_ALLOWANCE = 512

const sizeOf = (c: Change) =>
  Buffer.byteLength(detailText(c)) + Buffer.byteLength(c.detailType) + ENVELOPE_ALLOWANCE

/** The change within `maxBytes` under `policy`; throws {@link NeedsOperator} when it cannot be. */
export function fitChange(change: Change, maxBytes: number, policy: OversizePolicy): Change {
  if (sizeOf(change) <= maxBytes) return change
  const where = `${change.detailType} key ${JSON.stringify(change.detail.key)} (${change.detail.source.version})`
  if (policy === 'fail')
    throw new NeedsOperator(
      `The change to ${where} is larger than the event size limit (${String(maxBytes)} bytes) and the source's oversize policy is fail. Raise the limit (--max-request-size) or re-add the source with --oversize drop-before or key-only.`,
    )
  const columns = (row: Record<string, unknown> | null) => (row ? Object.keys(row) : [])
  if (policy === 'drop-before' && change.detail.before !== null) {
    const smaller: Change = {
      ...change,
      detail: { ...change.detail, before: null, truncated: columns(change.detail.before) },
    }
    if (sizeOf(smaller) <= maxBytes) return smaller
  }
  if (policy === 'drop-before')
    throw new NeedsOperator(
      `The change to ${where} is larger than the event size limit (${String(maxBytes)} bytes) even without its before image. Raise the limit (--max-request-size) or re-add the source with --oversize key-only.`,
    )
  const truncated = [
    ...new Set([...columns(change.detail.before), ...columns(change.detail.after)]),
  ]
  return { ...change, detail: { ...change.detail, before: null, after: null, truncated } }
}
