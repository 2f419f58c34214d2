/**
 * @module
 * Where an envelope's `time` and `detail` values sit in its UTF-8 bytes, stored beside each
 * archived event (store migration 8) so that a query over an archive slices them out of the
 * event instead of parsing its whole JSON (bench:history). Two small integers per archived
 * event: copying the two values instead cost archiving a sixth of PutEvents throughput
 * (bench:archive), the positions cost nothing measurable.
 *
 * Every event in the log is written by `envelopeText` (keys in AWS's order, `detail` last;
 * a replay adds the string `replay-name` before `resources`). No object precedes `detail`, and
 * a `"` inside a JSON string is always escaped, so the first `"time":"` and the first
 * `"detail":` of the text are the envelope's own keys. Text of another shape gets no positions,
 * and the query reads such an event's JSON instead.
 */

/** The length of the envelope's time, `2026-01-01T00:00:00Z`. */
export const TIME_LENGTH = 20

// Searched without their opening quote, checked after: a search that begins with `"` stops at
// every quote of the text and takes five times as long.
const TIME_KEY = 'time":"'
const DETAIL_KEY = 'detail":'

/**
 * 1-based byte positions, in `text` of UTF-8 length `bytes`, of the time value (its first
 * character inside the quotes) and of the detail value (its `{`, running to the byte before the
 * envelope's closing brace), or nulls.
 */
export function envelopePositions(
  text: string,
  bytes: number,
): [timeAt: number | null, detailAt: number | null] {
  const time = text.indexOf(TIME_KEY)
  const detail = text.indexOf(DETAIL_KEY)
  if (
    time < 1 ||
    detail < time ||
    text.charCodeAt(time - 1) !== 0x22 ||
    text.charCodeAt(detail - 1) !== 0x22 ||
    text.charCodeAt(time + TIME_KEY.length + TIME_LENGTH) !== 0x22
  )
    return [null, null]
  const detailStart = detail + DETAIL_KEY.length
  if (text.charCodeAt(detailStart) !== 0x7b || !text.endsWith('}}')) return [null, null]
  const timeStart = time + TIME_KEY.length
  // `bytes` is the text's UTF-8 length: equal to its length, every character is one byte.
  if (bytes === text.length) return [timeStart + 1, detailStart + 1]
  return [
    Buffer.byteLength(text.slice(0, timeStart)) + 1,
    Buffer.byteLength(text.slice(0, detailStart)) + 1,
  ]
}
