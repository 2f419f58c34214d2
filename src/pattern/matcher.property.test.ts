/**
 * Property tests: the compiled matcher agrees with the brute-force oracle in test/helpers on
 * random patterns and events, and a matcher keeps agreeing while rules come and go.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { checkPattern, createMatcher, matchesPattern } from './index.js'
import { event, pattern } from '../../test/helpers/arbitraries.js'
import { referenceMatches } from '../../test/helpers/reference-matcher.js'

const runs = Number(process.env.PROPERTY_RUNS ?? 3000)

const valid = (p: object): boolean => checkPattern(JSON.stringify(p)) === null

test('generated patterns are valid unless their wildcards are too complex', () => {
  fc.assert(
    fc.property(pattern, (p) => {
      const reason = checkPattern(JSON.stringify(p))?.reason ?? null
      if (reason !== null) assert.match(reason, /^Rule is too complex/)
    }),
    { numRuns: runs },
  )
})

test('one pattern, one event: compiled matcher = oracle (text and parsed events)', () => {
  fc.assert(
    fc.property(pattern, event, (p, e) => {
      fc.pre(valid(p))
      const expected = referenceMatches(p, e)
      const text = JSON.stringify(p)
      assert.equal(matchesPattern(text, JSON.stringify(e)), expected, 'event as text')
      assert.equal(matchesPattern(text, e), expected, 'event as object')
    }),
    { numRuns: runs },
  )
})

type Op = { add: true; id: number; pattern: Record<string, unknown> } | { add: false; id: number }

test('rule sets added and removed in random order match as the oracle says', () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ add: fc.constant(true as const), id: fc.nat(7), pattern }),
    fc.record({ add: fc.constant(false as const), id: fc.nat(7) }),
  )
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 20 }),
      fc.array(event, { minLength: 1, maxLength: 5 }),
      (ops, events) => {
        const matcher = createMatcher()
        const live = new Map<string, Record<string, unknown>>()
        for (const o of ops) {
          const id = `r${o.id}`
          if (o.add) {
            if (!valid(o.pattern)) continue
            matcher.add(id, JSON.stringify(o.pattern))
            live.set(id, o.pattern)
          } else {
            assert.equal(matcher.remove(id), live.delete(id))
          }
        }
        assert.equal(matcher.size, live.size)
        for (const e of events) {
          const expected = [...live]
            .filter(([, p]) => referenceMatches(p as never, e as never))
            .map(([id]) => id)
            .sort()
          assert.deepEqual(matcher.matches(JSON.stringify(e)).sort(), expected)
          assert.deepEqual(matcher.matches(e).sort(), expected)
        }
      },
    ),
    { numRuns: Math.ceil(runs / 5) },
  )
})
