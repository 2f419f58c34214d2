import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createMatcher, explain, matchesPattern, PatternError } from './index.js'

test('add, replace and remove rules of one matcher', () => {
  const m = createMatcher()
  m.add('a', '{"source":["shop"]}')
  m.add('b', '{"source":[{"prefix":"sh"}]}')
  assert.deepEqual(m.matches('{"source":"shop"}').sort(), ['a', 'b'])
  m.add('a', '{"source":["other"]}') // replaces a's pattern
  assert.deepEqual(m.matches('{"source":"shop"}'), ['b'])
  assert.equal(m.remove('b'), true)
  assert.equal(m.remove('b'), false)
  assert.deepEqual(m.matches('{"source":"shop"}'), [])
  assert.deepEqual(m.matches({ source: 'other' }), ['a'])
  assert.equal(m.size, 1)
  assert.throws(() => m.add('c', '{"source":"x"}'), PatternError)
  assert.equal(m.size, 1, 'a rejected pattern leaves the matcher as it was')
})

test('rules sharing fields keep their own value lists', () => {
  const m = createMatcher()
  m.add('ab', '{"x":["a","b"],"y":["1"]}')
  m.add('a', '{"x":["a"],"y":["2"]}')
  assert.deepEqual(m.matches({ x: 'b', y: '2' }), [])
  assert.deepEqual(m.matches({ x: 'a', y: '2' }), ['a'])
  assert.deepEqual(m.matches({ x: 'b', y: '1' }), ['ab'])
})

test('numbers compare as numbers; numbers a double cannot hold compare as text', () => {
  assert.equal(matchesPattern('{"n":[300]}', '{"n":300.0}'), true)
  assert.equal(matchesPattern('{"n":[300]}', '{"n":"300"}'), false)
  assert.equal(matchesPattern('{"n":[9007199254740993]}', '{"n":9007199254740993}'), true)
  assert.equal(matchesPattern('{"n":[9007199254740993]}', '{"n":9007199254740992}'), false)
  assert.equal(matchesPattern('{"n":[{"numeric":[">",0,"<=",5]}]}', '{"n":5}'), true)
  assert.equal(matchesPattern('{"n":[{"numeric":[">",0,"<=",5]}]}', '{"n":"5"}'), false)
})

test('IP addresses match whatever their spelling', () => {
  assert.equal(matchesPattern('{"ip":["2001:db8::1"]}', '{"ip":"2001:0DB8:0:0:0:0:0:1"}'), true)
  assert.equal(matchesPattern('{"ip":["10.0.0.1"]}', '{"ip":"010.0.0.1"}'), true)
  assert.equal(matchesPattern('{"ip":[{"cidr":"10.0.0.0/24"}]}', '{"ip":"10.0.0.255"}'), true)
  assert.equal(matchesPattern('{"ip":[{"cidr":"10.0.0.0/24"}]}', '{"ip":"10.0.1.0"}'), false)
})

test('exists:false is judged against the array element the other fields came from', () => {
  const p = '{"employees":{"firstName":["Anna"],"ids":[{"exists":false}]}}'
  const e = { employees: [{ firstName: 'John', ids: [1] }, { firstName: 'Anna' }] }
  assert.equal(matchesPattern(p, e), true)
  assert.equal(matchesPattern('{"employees":{"ids":[{"exists":false}]}}', e), false)
})

test('anything-but: present values only, null included', () => {
  const p = '{"state":[{"anything-but":"stopped"}]}'
  assert.equal(matchesPattern(p, { state: null }), true)
  assert.equal(matchesPattern(p, {}), false)
  assert.equal(matchesPattern(p, { state: ['stopped', 'x'] }), true)
  assert.equal(matchesPattern(p, { state: ['stopped'] }), false)
})

test('explain names the field and values that decided', () => {
  const miss = explain('{"detail":{"state":["running"]}}', { detail: { state: 'stopped' } })
  assert.equal(miss.text, 'no match: detail.state: "stopped" matched none of ["running"]')
  const absent = explain('{"source":["a"],"detail":{"x":[1]}}', { source: 'a' })
  assert.equal(absent.matched, false)
  assert.equal(absent.text, 'no match: detail.x: (absent) matched none of [1]')
  const hit = explain('{"$or":[{"a":["1"]},{"b":[{"prefix":"x"}]}]}', { b: 'xy' })
  assert.equal(hit.text, 'matched (branch 2 of 2): b: "xy" matched [{"prefix":"x"}]')
  const arrays = explain('{"d":{"a":["1"],"b":["2"]}}', { d: [{ a: '1' }, { b: '2' }] })
  assert.equal(arrays.matched, false)
  assert.match(arrays.text, /not within the same element of an array$/)
})
