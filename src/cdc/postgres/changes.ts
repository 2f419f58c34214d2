/**
 * @module
 * pgoutput row messages to {@link Change}s: key from the table's primary key (from the catalog,
 * since with REPLICA IDENTITY FULL pgoutput marks every column as key), before/after images
 * decoded by column type, unchanged TOAST columns listed in `unchanged` and left out of `after`.
 *
 * Position: `commitLsn:seq` (seq: the change's place in its transaction), so the version
 * `<16 hex digits of the commit LSN>:<10-digit seq>` orders a source's changes as text.
 */
import { changeId } from '../change-id.js'
import { detailTypeOf } from '../detail-type.js'
import type { Change, ChangeDetail, ChangeOp, SourceDefinition } from '../model.js'
import { decodeRow } from './decode.js'
import { lsnHex16, lsnToBig } from './lsn.js'

export type Column = { name: string; typeOid: number }

/** A table as the stream described it last (Relation message) with its primary key. */
export type Table = { schema: string; name: string; columns: Column[]; key: string[] }

/** The transaction being read. */
export type Txn = {
  xid: number
  commitLsn: string
  /** Commit time, ms. */
  tsMs: number
  seq: number
}

export type RowMessage = {
  op: ChangeOp
  lsn: string
  before: Record<string, unknown> | null
  /** Raw `new` tuple (text values; undefined for an unchanged TOAST column). */
  after: Record<string, unknown> | null
}

// The rows of a transaction share its commit LSN: its 16 hex digits are worked out once.
let lastCommit = { lsn: '', hex: '' }

export const versionOf = (commitLsn: string, seq: number) => {
  if (lastCommit.lsn !== commitLsn)
    lastCommit = { lsn: commitLsn, hex: lsnHex16(lsnToBig(commitLsn)) }
  return `${lastCommit.hex}:${String(seq).padStart(10, '0')}`
}

export function rowChange(
  def: SourceDefinition,
  db: string,
  table: Table,
  txn: Txn,
  m: RowMessage,
): Change {
  const seq = txn.seq++
  const unchanged: string[] = []
  const before = m.before && decodeRow(m.before, table.columns)
  const after = m.after && decodeRow(m.after, table.columns, unchanged)
  const detail: ChangeDetail = {
    op: m.op,
    key: keyOf(table.key, after, before),
    before,
    after,
    unchanged,
    source: {
      connector: 'postgresql',
      name: def.name,
      db,
      schema: table.schema,
      table: table.name,
      lsn: m.lsn,
      commitLsn: txn.commitLsn,
      txId: txn.xid,
      seq,
      tsMs: txn.tsMs,
      snapshot: false,
      version: versionOf(txn.commitLsn, seq),
    },
    transaction: { id: `${String(txn.xid)}:${txn.commitLsn}`, order: seq },
  }
  return {
    id: changeId(def, `${txn.commitLsn}:${String(seq)}`),
    time: txn.tsMs,
    detailType: detailTypeOf(table.schema, table.name, def.detailTypeWithOp ? m.op : undefined),
    detail,
  }
}

/** The key's values, from the after image, else the before image; null without a key. */
function keyOf(
  key: string[],
  after: Record<string, unknown> | null,
  before: Record<string, unknown> | null,
): Record<string, unknown> | null {
  if (key.length === 0) return null
  const out: Record<string, unknown> = {}
  for (const k of key) {
    const v = after && k in after ? after[k] : before?.[k]
    if (v === undefined) return null
    out[k] = v
  }
  return out
}
