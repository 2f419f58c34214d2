import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compactJson, envelopeTime } from './envelope.js'

test('envelopeTime: UTC to the second, right when the second changes between calls', () => {
  const t = Date.UTC(2026, 11, 6, 2, 15, 59, 999)
  assert.equal(envelopeTime(t), '2026-12-06T02:15:59Z')
  assert.equal(envelopeTime(t - 998), '2026-12-06T02:15:59Z')
  assert.equal(envelopeTime(t + 1), '2026-12-06T02:16:00Z')
  assert.equal(envelopeTime(t), '2026-12-06T02:15:59Z')
  assert.equal(envelopeTime(0), '1970-01-01T00:00:00Z')
  assert.equal(envelopeTime(-1), '1969-12-31T23:59:59Z')
  assert.throws(() => envelopeTime(NaN), RangeError)
})

test('compactJson drops whitespace outside strings only', () => {
  assert.equal(compactJson('{ "a" : "x y",\n "b": [1.0, 2] }'), '{"a":"x y","b":[1.0,2]}')
  assert.equal(compactJson('{"a":"\\" q "}'), '{"a":"\\" q "}')
})
