import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkPattern } from './index.js'

const reason = (text: string): string | null => checkPattern(text)?.reason ?? null

test('AWS wraps the reason and adds a Jackson-style location line', () => {
  const e = checkPattern('{"source": "x"}')!
  assert.equal(e.code, 'InvalidEventPatternException')
  assert.equal(
    e.message,
    'Event pattern is not valid. Reason: "source" must be an object or an array\n at [Source: (String)"{"source": "x"}"; line: 1, column: 15]',
  )
})

test('patterns over 4096 characters are a ValidationException with the model constraint', () => {
  const long = JSON.stringify({ source: ['x'.repeat(4100)] })
  const e = checkPattern(long)!
  assert.equal(e.code, 'ValidationException')
  assert.match(
    e.message,
    /failed to satisfy constraint: Member must have length less than or equal to 4096$/,
  )
  assert.equal(checkPattern(long, { maxLength: 8192 }), null)
  assert.equal(reason(JSON.stringify({ source: ['x'.repeat(4000)] })), null)
})

test('wildcard complexity: 9 passes, 11 is "too complex", distinct values on a field add up', () => {
  assert.equal(reason('{"a":[{"wildcard":"*:*:*:*:*"}]}'), null)
  assert.match(reason('{"a":[{"wildcard":"*:*:*:*:*:*"}]}')!, /^Rule is too complex/)
  const three =
    '{"a":[{"wildcard":"*:stack/X/*"},{"wildcard":"*:stack/Y/*"},{"wildcard":"*:stack/Z/*"}]}'
  assert.equal(reason(three), null)
  const four = three.replace(']}', ',{"wildcard":"*:stack/W/*"}]}')
  assert.match(reason(four)!, /^Rule is too complex/)
  // the same values repeated by $or expansion count once
  const spread = three.replace(/}$/, ',"$or":[{"b":["1"]},{"c":["2"]}]}')
  assert.equal(reason(spread), null)
})

test('numbers that a double cannot hold exactly are refused in numeric ranges only', () => {
  assert.equal(
    reason('{"a":[{"numeric":["<",0.30000000000000001]}]}'),
    'Cannot compare number : 0.30000000000000001',
  )
  assert.equal(reason('{"a":[{"numeric":["<",1e308]}]}'), null)
  assert.equal(reason('{"a":[{"numeric":["<",1E309]}]}'), 'Cannot compare number : 1E309')
  assert.equal(reason('{"a":[9007199254740993]}'), null)
  assert.equal(reason('{"a":[{"numeric":[">=",1,"<=",1]}]}'), 'Bottom must be less than top')
})

test('cidr masks must be below the address width', () => {
  assert.equal(reason('{"ip":[{"cidr":"10.0.0.1/32"}]}'), 'IPv4 mask bits must be < 32')
  assert.equal(reason('{"ip":[{"cidr":"2001:db8::/128"}]}'), 'IPv6 mask bits must be < 128')
  assert.equal(reason('{"ip":[{"cidr":"256.0.0.0/8"}]}'), 'Invalid IP address: 256.0.0.0')
  assert.equal(reason('{"ip":[{"cidr":"10.0.0.0/8/"}]}'), null)
})

test('the reader stops at the end of the root object, as the streaming engine does', () => {
  assert.equal(reason('{"a":["x"]} trailing'), null)
  assert.equal(reason(''), 'Filter is not an object')
})

test('$or: reserved names inside, at least two objects', () => {
  assert.equal(
    reason('{"$or":[{"prefix":["x"]},{"b":["y"]}]}'),
    'prefix is Ruler reserved fieldName which cannot be used inside $or.',
  )
  assert.equal(reason('{"prefix":["x"]}'), null)
  assert.equal(reason('{"$or":[]}'), 'There must have at least 2 Objects in $or relationship.')
})
