/**
 * Numbers as EventBridge compares them: as IEEE-754 doubles, but only numbers whose decimal text
 * survives the trip to a double and back. `0.30000000000000001` or `9007199254740993` would
 * silently become a different number, so a numeric pattern rejects them ("Cannot compare
 * number") and an event value like that is compared by its text only.
 */

/** The double `text` denotes, or `null` when the double does not print back as the same value. */
export function comparableNumber(text: string): number | null {
  const n = Number(text)
  if (!Number.isFinite(n)) return null
  const magnitude = Math.abs(n)
  const normal =
    magnitude === 0
      ? !/[1-9]/.test(text.replace(/[eE].*$/, ''))
      : magnitude > 1e-290 && magnitude < 1e290
  if (normal && fitsInDouble(text)) return n
  // most serialisers already write the shortest text that round-trips
  if (normal && String(n) === text) return n
  // the engine prints doubles with at least two significant digits (`4.9E-324`, not `5e-324`)
  let printed = String(n)
  if (significantDigits(printed) < 2) printed = n.toPrecision(2)
  return sameDecimal(text, printed) ? n : null
}

/** Fast path: at most 15 significant digits in the normal range always round-trip. */
function fitsInDouble(text: string): boolean {
  let digits = 0
  let leading = true
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 101 || c === 69) break
    if (c < 48 || c > 57) continue
    if (leading && c === 48) continue
    leading = false
    digits++
  }
  return digits <= 15
}

function significantDigits(printed: string): number {
  return decimal(printed).digits.length
}

type Decimal = { negative: boolean; digits: string; exponent: number }

/** `text` as sign, significant digits without leading or trailing zeros, and a power of ten. */
function decimal(text: string): Decimal {
  let s = text
  const negative = s.startsWith('-')
  if (negative || s.startsWith('+')) s = s.slice(1)
  let exponent = 0
  const e = s.search(/[eE]/)
  if (e >= 0) {
    exponent = Number(s.slice(e + 1))
    s = s.slice(0, e)
  }
  const point = s.indexOf('.')
  if (point >= 0) {
    exponent -= s.length - point - 1
    s = s.slice(0, point) + s.slice(point + 1)
  }
  s = s.replace(/^0+/, '')
  const trimmed = s.replace(/0+$/, '')
  exponent += s.length - trimmed.length
  return { negative: negative && trimmed !== '', digits: trimmed, exponent }
}

function sameDecimal(a: string, b: string): boolean {
  const x = decimal(a)
  const y = decimal(b)
  if (x.digits === '' && y.digits === '') return true
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent
}
