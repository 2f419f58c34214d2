/**
 * @module
 * The event envelope EventBridge delivers, built as text once at ingest so that every target
 * gets the same bytes: `{"version":"0","id":…,"detail-type":…,"source":…,"account":…,"time":…,
 * "region":…,"resources":[…],"detail":{…}}` (reference §3.1, key order as AWS sends it).
 */

export type EnvelopeFields = {
  id: string
  detailType: string
  source: string
  account: string
  /** Already rendered with {@link envelopeTime} (once per request for the common case). */
  time: string
  region: string
  resources: string[]
  /** The Detail text as the producer sent it (already checked to be a JSON object). */
  detailText: string
}

let lastSecond = NaN
let lastTime = ''

/** `2026-01-01T12:00:00Z`: UTC, second precision, as in EventBridge envelopes. */
export function envelopeTime(ms: number): string {
  // Events come in runs of the same second (a request's entries, a transaction's changes, a
  // drain's deliveries): the text of the last second is kept (1–1.5% of a profile before).
  const second = Math.floor(ms / 1000)
  if (second !== lastSecond) {
    lastTime = new Date(second * 1000).toISOString().replace('.000Z', 'Z')
    lastSecond = second
  }
  return lastTime
}

/**
 * JSON text without insignificant whitespace. Unlike a parse and re-stringify it keeps number
 * literals exactly (`1.0`, `12345678901234567890`), so no precision is lost on the way through.
 */
export function compactJson(text: string): string {
  // Most producers send compact JSON already; a native test is far cheaper than the replace.
  if (!/[ \t\n\r]/.test(text)) return text
  return text.replace(/("(?:[^"\\]|\\.)*")|[ \t\n\r]+/g, (_m, str: string | undefined) => str ?? '')
}

export function envelopeText(f: EnvelopeFields): string {
  return (
    `{"version":"0","id":${JSON.stringify(f.id)},"detail-type":${JSON.stringify(f.detailType)},` +
    `"source":${JSON.stringify(f.source)},"account":${JSON.stringify(f.account)},` +
    `"time":"${f.time}","region":${JSON.stringify(f.region)},` +
    `"resources":${JSON.stringify(f.resources)},"detail":${compactJson(f.detailText)}}`
  )
}

/** The parsed envelope, for matching (the same fields as the text). */
export function envelopeObject(f: EnvelopeFields, detail: object): Record<string, unknown> {
  return {
    version: '0',
    id: f.id,
    'detail-type': f.detailType,
    source: f.source,
    account: f.account,
    time: f.time,
    region: f.region,
    resources: f.resources,
    detail,
  }
}
