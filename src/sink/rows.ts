/**
 * @module
 * What a sink writes for one event: the row's columns, its version and whether it is a
 * tombstone, read from what the target receives (the event, unless the target transforms it)
 * with the sink's paths. Pure.
 *
 * - Without a column mapping, every field of `detail.after` is a column of the same name; for a
 *   delete, `detail.before`, then `detail.key`, give the key.
 * - With one, each column's path is evaluated; on a delete, a path into `detail.after` reads
 *   `detail.before`, then `detail.key` (the deleted row has no after image).
 * - A column the event does not carry (the path selects nothing) is left out of the write, and
 *   so is a column named in `detail.unchanged` (a value the database did not send): the row
 *   keeps what it has, never NULL.
 * - A delete writes the key, the version and the tombstone flag only; a truncate writes nothing.
 */
import { evaluatePath } from '../transform/index.js'
import type { SinkDefinition } from './model.js'

export type RowWrite = {
  /** Column → value, key columns first; neither the version nor the tombstone column. */
  values: Map<string, unknown>
  version: string
  deleted: boolean
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The row an event writes, or why it cannot be written (a message naming the field). */
export function rowOf(
  def: SinkDefinition,
  input: unknown,
): RowWrite | { problem: string } | { skip: true } {
  // A truncate (`t`) names no row: a sink does not apply it (see docs/sinks.md).
  if (evaluatePath(input, def.op) === 't') return { skip: true }
  const rawVersion = evaluatePath(input, def.version)
  if (typeof rawVersion !== 'string' && typeof rawVersion !== 'number')
    return {
      problem: `The event has no version at ${def.version} (a string such as detail.source.version of a change event).`,
    }
  const deleted = evaluatePath(input, def.op) === 'd'
  const detail = isRecord(input) && isRecord(input.detail) ? input.detail : {}
  const unchanged = new Set(
    Array.isArray(detail.unchanged) ? detail.unchanged.filter((c) => typeof c === 'string') : [],
  )
  const all = def.columns ? mapped(def.columns, input, deleted) : unmapped(detail, deleted)
  const values = new Map<string, unknown>()
  for (const k of def.key) {
    const v = all.get(k)
    if (v === undefined || v === null)
      return {
        problem: `The event gives no value for the key column ${k}${def.columns?.[k] ? ` (path ${def.columns[k]})` : ''}.`,
      }
    values.set(k, v)
  }
  if (!deleted)
    for (const [col, v] of all) {
      if (values.has(col) || col === def.versionColumn || col === def.deletedColumn) continue
      if (v === undefined || unchanged.has(col)) continue
      values.set(col, v)
    }
  return { values, version: String(rawVersion), deleted }
}

function unmapped(detail: Record<string, unknown>, deleted: boolean): Map<string, unknown> {
  const image = deleted
    ? {
        ...(isRecord(detail.key) ? detail.key : {}),
        ...(isRecord(detail.before) ? detail.before : {}),
      }
    : isRecord(detail.after)
      ? detail.after
      : {}
  return new Map(Object.entries(image))
}

const AFTER = '$.detail.after.'

function mapped(
  columns: Record<string, string>,
  input: unknown,
  deleted: boolean,
): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const [col, path] of Object.entries(columns)) {
    let v = evaluatePath(input, path)
    if (deleted && v === undefined && path.startsWith(AFTER)) {
      const rest = path.slice(AFTER.length)
      v =
        evaluatePath(input, `$.detail.before.${rest}`) ??
        evaluatePath(input, `$.detail.key.${rest}`)
    }
    out.set(col, v)
  }
  return out
}
