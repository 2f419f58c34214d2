/** fast-check generators of small patterns and events that often match each other. */
import fc from 'fast-check'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const keys = fc.constantFrom('a', 'b', 'c')
const words = fc.constantFrom('x', 'y', 'xy', 'X', 'yx', '', 'x*y', 'Xy')
const numbers = fc.constantFrom(-1, 0, 1.5, 3, 300)

export const leafValue: fc.Arbitrary<Json> = fc.oneof(
  words,
  numbers,
  fc.constantFrom(true, false, null),
)

export const eventValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json; obj: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafValue,
    tie('obj'),
    fc.array(fc.oneof(leafValue, tie('obj')), { maxLength: 3 }),
  ),
  obj: fc.dictionary(keys, tie('value'), { maxKeys: 3 }),
})).value

export const event = fc.dictionary(keys, eventValue, { minKeys: 1, maxKeys: 3 })

const wildcard = fc.array(fc.constantFrom('x', 'y', 'X', '\\*'), { maxLength: 2 }).chain((parts) =>
  fc
    .array(fc.boolean(), { minLength: parts.length + 1, maxLength: parts.length + 1 })
    .map((stars) => {
      let out = ''
      parts.forEach((p, i) => (out += (stars[i] ? '*' : '') + p))
      if (stars[parts.length] === true && !out.endsWith('*')) out += '*'
      return out
    }),
)

const nonEmptyWords = fc.constantFrom('x', 'y', 'xy', 'X')

export const condition: fc.Arbitrary<Json> = fc.oneof(
  leafValue,
  fc.record({ prefix: words }),
  fc.record({ suffix: words }),
  fc.record({ prefix: fc.record({ 'equals-ignore-case': words }) }),
  fc.record({ suffix: fc.record({ 'equals-ignore-case': words }) }),
  fc.record({ 'equals-ignore-case': words }),
  fc.record({ wildcard }),
  fc.record({ exists: fc.boolean() }),
  fc.record({
    'anything-but': fc.oneof(
      words,
      numbers,
      fc.array(words, { minLength: 1, maxLength: 2 }),
      fc.array(numbers, { minLength: 1, maxLength: 2 }),
      fc.record({ prefix: nonEmptyWords }),
      fc.record({ suffix: nonEmptyWords }),
      fc.record({ 'equals-ignore-case': fc.array(words, { minLength: 1, maxLength: 2 }) }),
      fc.record({ wildcard }),
    ),
  }),
  fc
    .oneof(
      fc.tuple(fc.constantFrom('=', '<', '<=', '>', '>='), numbers).map(([op, n]) => [op, n]),
      fc
        .tuple(fc.constantFrom('>', '>='), numbers, fc.constantFrom('<', '<='), numbers)
        .filter(([, lo, , hi]) => lo < hi),
    )
    .map((terms) => ({ numeric: terms })),
)

type PatternObject = Record<string, Json>

const conditions = fc.array(condition, { minLength: 1, maxLength: 3 })

/** An object of fields with values `inner`, sometimes with an `$or` of two such objects. */
function level(inner: fc.Arbitrary<Json>): fc.Arbitrary<PatternObject> {
  const fields = fc.dictionary(keys, inner, { minKeys: 1, maxKeys: 2 })
  return fc
    .tuple(fields, fc.option(fc.tuple(fields, fields), { freq: 4 }))
    .map(([f, or]) => (or === null ? f : { ...f, $or: or }))
}

const leafLevel = level(conditions)

/** Patterns two objects deep at most, with `$or` at either depth. */
export const pattern: fc.Arbitrary<PatternObject> = level(fc.oneof(conditions, leafLevel))
