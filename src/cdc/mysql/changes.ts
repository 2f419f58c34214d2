/**
 * @module
 * One row change of a MySQL/MariaDB source as a {@link Change}: the detail-type, the
 * deterministic id, and the oversize policy applied when the event would exceed the bus's
 * size limit.
 */
import { createHash } from 'node:crypto'
import type { Change, ChangeDetail, ChangeOp, SourceDefinition } from '../model.js'
import { SourceConfigError } from './settings.js'

/** EventBridge's DetailType limit. */
const MAX_DETAIL_TYPE = 128

export type ChangeInput = {
  op: ChangeOp
  database: string
  table: string
  key: Record<string, unknown> | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  /** The transaction's GTID (the snapshot's position for `op: r`). */
  gtid: string
  binlog?: { file: string; pos: number }
  seq: number
  tsMs: number
  snapshot: boolean
  version: string
  id: string
}

/** `<db>.<table>[.<op>]`; a longer one is cut and ends in a hash of the whole, so it stays unique. */
export function detailTypeOf(
  def: SourceDefinition,
  database: string,
  table: string,
  op: ChangeOp,
): string {
  const full = def.detailTypeWithOp ? `${database}.${table}.${op}` : `${database}.${table}`
  if (full.length <= MAX_DETAIL_TYPE) return full
  const hash = createHash('sha1').update(full).digest('hex').slice(0, 12)
  return `${full.slice(0, MAX_DETAIL_TYPE - 13)}~${hash}`
}

export function buildChange(def: SourceDefinition, c: ChangeInput, maxEventBytes: number): Change {
  const detail: ChangeDetail = {
    op: c.op,
    key: c.key,
    before: c.before,
    after: c.after,
    unchanged: [],
    source: {
      connector: 'mysql',
      name: def.name,
      db: c.database,
      schema: c.database,
      table: c.table,
      gtid: c.gtid,
      ...(c.binlog ? { binlog: c.binlog } : {}),
      seq: c.seq,
      tsMs: c.tsMs,
      snapshot: c.snapshot,
      version: c.version,
    },
    transaction: { id: c.gtid, order: c.seq },
  }
  const change: Change = {
    id: c.id,
    time: c.tsMs,
    detailType: detailTypeOf(def, c.database, c.table, c.op),
    detail,
  }
  return fitted(def, change, maxEventBytes)
}

/** Source, detail-type, detail and the time stamp: what the bus counts against its limit. */
function eventBytes(def: SourceDefinition, change: Change): number {
  return (
    Buffer.byteLength(`junction.cdc.${def.name}`) +
    Buffer.byteLength(change.detailType) +
    Buffer.byteLength(JSON.stringify(change.detail)) +
    24
  )
}

function fitted(def: SourceDefinition, change: Change, maxEventBytes: number): Change {
  if (eventBytes(def, change) <= maxEventBytes) return change
  const d = change.detail
  const where = `${d.source.schema}.${d.source.table} ${JSON.stringify(d.key)} (${d.source.gtid ?? ''}:${d.source.seq})`
  switch (def.oversize) {
    case 'fail':
      break
    case 'drop-before': {
      const smaller = { ...change, detail: { ...d, before: null, truncated: columnsOf(d.before) } }
      if (eventBytes(def, smaller) <= maxEventBytes) return smaller
      break
    }
    case 'key-only':
      return {
        ...change,
        detail: {
          ...d,
          before: null,
          after: null,
          truncated: [...new Set([...columnsOf(d.before), ...columnsOf(d.after)])],
        },
      }
  }
  throw new SourceConfigError(
    `the change of ${where} exceeds the event size limit of ${maxEventBytes} bytes ` +
      `(oversize policy ${def.oversize}): use the policy key-only, or raise the limit`,
  )
}

function columnsOf(row: Record<string, unknown> | null): string[] {
  return row ? Object.keys(row) : []
}
