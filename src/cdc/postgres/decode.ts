/**
 * @module
 * Column values from PostgreSQL's text output to JSON, by type OID (the encoding is written
 * down in docs/cdc.md): int2/int4/float4/float8/oid → numbers (NaN and ±Infinity stay text);
 * int8, numeric, money → strings (lossless); bool → boolean; json/jsonb → nested JSON; bytea →
 * base64; timestamptz → ISO 8601 in UTC with its microseconds (`…T09:04:04.963767Z`);
 * timestamp → ISO 8601 without a zone; everything else (date, time, uuid, arrays, enums, …) →
 * PostgreSQL's own text. The sessions run with `TimeZone=UTC`, `DateStyle=ISO` and
 * `bytea_output=hex` so the text is always in these forms.
 *
 * The library's parsers (pg's global type parsers) are not used: ours are local to our
 * connections, so nothing else in the process changes how it reads PostgreSQL values.
 */

/** Startup options of every connection a source opens. */
export const SESSION_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex -c extra_float_digits=3 -c IntervalStyle=iso_8601'

const NUMBER = new Set([21, 23, 26, 700, 701])
const BOOL = 16
const BYTEA = 17
const JSON_TYPES = new Set([114, 3802])
const TIMESTAMP = 1114
const TIMESTAMPTZ = 1184

export function decodeValue(text: string | null | undefined, typeOid: number): unknown {
  if (text === null || text === undefined) return text
  if (NUMBER.has(typeOid)) {
    const n = Number(text)
    return Number.isFinite(n) ? n : text
  }
  if (typeOid === BOOL) return text === 't'
  if (JSON_TYPES.has(typeOid)) return JSON.parse(text) as unknown
  if (typeOid === BYTEA)
    return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex').toString('base64') : text
  if (typeOid === TIMESTAMPTZ) return isoTime(text, true)
  if (typeOid === TIMESTAMP) return isoTime(text, false)
  return text
}

/** `2026-11-29 09:04:04.963767+00` → `2026-11-29T09:04:04.963767Z`; infinity and BC stay. */
function isoTime(text: string, zoned: boolean): string {
  const m = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(\+00)?$/.exec(text)
  if (!m) return text
  return `${m[1]!}T${m[2]!}${zoned ? 'Z' : ''}`
}

/** A row of text values (as the library or a query hands it) decoded by its columns' types. */
export function decodeRow(
  row: Record<string, unknown>,
  columns: readonly { name: string; typeOid: number }[],
  unchanged?: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const c of columns) {
    if (!(c.name in row)) continue
    const v = row[c.name]
    // The library leaves an unchanged TOAST value as undefined: the database did not send it.
    if (v === undefined) {
      unchanged?.push(c.name)
      continue
    }
    out[c.name] = decodeValue(v as string | null, c.typeOid)
  }
  return out
}
