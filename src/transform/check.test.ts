import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkTargetInput, readTargetInput, type InputTransformer } from './index.js'

const transformer = (t: InputTransformer): string | null =>
  checkTargetInput('t1', { kind: 'transformer', transformer: t })

test('valid settings pass', () => {
  assert.equal(checkTargetInput('t1', { kind: 'event' }), null)
  assert.equal(checkTargetInput('t1', { kind: 'constant', input: '{"a": [1, "x"]}' }), null)
  assert.equal(checkTargetInput('t1', { kind: 'constant', input: '"just a string"' }), null)
  assert.equal(checkTargetInput('t1', { kind: 'path', inputPath: '$.detail.items[0].id' }), null)
  assert.equal(checkTargetInput('t1', { kind: 'path', inputPath: '$.detail.*' }), null)
  assert.equal(
    transformer({
      inputPathsMap: { 'instance-id': '$.detail.instance-id', state_2: '$.detail.state' },
      inputTemplate: '"<instance-id> is <state_2> (<aws.events.rule-name>)"',
    }),
    null,
  )
})

test('every predefined variable may be used without InputPathsMap', () => {
  const inputTemplate =
    '{"a": <aws.events.rule-arn>, "b": <aws.events.rule-name>, "c": <aws.events.event.ingestion-time>, ' +
    '"d": <aws.events.event>, "e": <aws.events.event.json>}'
  assert.equal(transformer({ inputTemplate }), null)
})

test('a placeholder that is neither a key nor predefined: AWS recorded message', () => {
  assert.equal(
    transformer({
      inputPathsMap: { type: '$.detail-type' },
      inputTemplate: '"Event of <type> type, with not defined key <notdefinedkey>"',
    }),
    'InputTemplate for target t1 contains invalid placeholder notdefinedkey.',
  )
  // predefined names are exact: a near miss is an undefined placeholder
  assert.equal(
    transformer({ inputTemplate: '"<aws.events.rule>"' }),
    'InputTemplate for target t1 contains invalid placeholder aws.events.rule.',
  )
  // HTML tags are placeholders too: angle brackets cannot be escaped
  assert.equal(
    transformer({ inputTemplate: '"<b>bold</b>"' }),
    'InputTemplate for target t1 contains invalid placeholder b.',
  )
  // a blank inside the brackets makes it text
  assert.equal(transformer({ inputTemplate: '"1 < 2 > 0"' }), null)
})

test('Input must be JSON text', () => {
  for (const input of ['not json', '{"a": }', '', "{'a': 1}"]) {
    assert.equal(
      checkTargetInput('t1', { kind: 'constant', input }),
      'Input for target t1 is not a valid JSON text.',
      input,
    )
  }
  assert.equal(
    checkTargetInput('t1', { kind: 'constant', input: JSON.stringify('x'.repeat(8191)) }),
    'Input for target t1 must be at most 8192 characters long.',
  )
})

test('InputPath must be EventBridge JSONPath of at most 256 characters', () => {
  assert.equal(
    checkTargetInput('t1', { kind: 'path', inputPath: "$['detail']" }),
    "Invalid JSON path $['detail'] in InputPath for target t1.",
  )
  assert.equal(
    checkTargetInput('t1', { kind: 'path', inputPath: 'detail' }),
    'Invalid JSON path detail in InputPath for target t1.',
  )
  const long = `$.${'a'.repeat(255)}`
  assert.equal(
    checkTargetInput('t1', { kind: 'path', inputPath: long }),
    'InputPath for target t1 must be at most 256 characters long.',
  )
  assert.equal(checkTargetInput('t1', { kind: 'path', inputPath: `$.${'a'.repeat(254)}` }), null)
})

test('InputPathsMap keys: [A-Za-z0-9_-]+, at most 256 characters, not starting with AWS.', () => {
  const withKey = (key: string): string | null =>
    transformer({ inputPathsMap: { [key]: '$.detail' }, inputTemplate: `"<${key}>"` })
  assert.equal(withKey('a-B_9'), null)
  assert.equal(withKey('k'.repeat(256)), null)
  const invalid = (key: string): string =>
    `InputPathsMap for target t1 contains invalid key ${key}. Keys must match [A-Za-z0-9_-]+ and be at most 256 characters long.`
  for (const key of ['has.dot', 'has space', 'é', 'aws.events.rule-arn', 'k'.repeat(257)]) {
    assert.equal(withKey(key), invalid(key), key)
  }
  assert.equal(
    transformer({ inputPathsMap: { '': '$.detail' }, inputTemplate: '"x"' }),
    invalid(''),
  )
  assert.equal(
    withKey('AWS.x'),
    'InputPathsMap for target t1 contains reserved key AWS.x. Keys cannot start with "AWS.".',
  )
})

test('InputPathsMap: at most 100 entries', () => {
  const map = (n: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `$.detail.f${i}`]))
  assert.equal(transformer({ inputPathsMap: map(100), inputTemplate: '"<k99>"' }), null)
  assert.equal(
    transformer({ inputPathsMap: map(101), inputTemplate: '"<k0>"' }),
    'InputPathsMap for target t1 has 101 entries; at most 100 are allowed.',
  )
})

test('InputPathsMap values must be EventBridge JSONPath', () => {
  assert.equal(
    transformer({ inputPathsMap: { a: '$..id' }, inputTemplate: '"<a>"' }),
    'Invalid JSON path $..id in InputPathsMap for target t1.',
  )
  assert.equal(
    transformer({ inputPathsMap: { a: `$.${'x'.repeat(255)}` }, inputTemplate: '"<a>"' }),
    'InputPathsMap value for key a of target t1 must be at most 256 characters long.',
  )
  assert.equal(
    transformer({ inputPathsMap: { a: '$.detail.items[*].id' }, inputTemplate: '"<a>"' }),
    null,
  )
})

test('InputTemplate: 1 to 8192 characters', () => {
  const message = 'InputTemplate for target t1 must be between 1 and 8192 characters long.'
  assert.equal(transformer({ inputTemplate: '' }), message)
  assert.equal(transformer({ inputTemplate: `"${'x'.repeat(8191)}"` }), message)
  assert.equal(transformer({ inputTemplate: `"${'x'.repeat(8190)}"` }), null)
})

test('readTargetInput: at most one of Input, InputPath and InputTransformer', () => {
  const template = { inputTemplate: '"x"' }
  const only = 'Only one of Input, InputPath, or InputTransformer must be provided for target t1.'
  assert.deepEqual(readTargetInput('t1', { input: '1', inputPath: '$' }), { error: only })
  assert.deepEqual(readTargetInput('t1', { input: '1', inputTransformer: template }), {
    error: only,
  })
  assert.deepEqual(readTargetInput('t1', { inputPath: '$', inputTransformer: template }), {
    error: only,
  })
})

test('readTargetInput: the kind each member asks for, checked', () => {
  assert.deepEqual(readTargetInput('t1', {}), { input: { kind: 'event' } })
  assert.deepEqual(readTargetInput('t1', { input: '{}', inputPath: undefined }), {
    input: { kind: 'constant', input: '{}' },
  })
  assert.deepEqual(readTargetInput('t1', { inputPath: '$.detail' }), {
    input: { kind: 'path', inputPath: '$.detail' },
  })
  assert.deepEqual(readTargetInput('t1', { inputTransformer: { inputTemplate: '"x"' } }), {
    input: { kind: 'transformer', transformer: { inputTemplate: '"x"' } },
  })
  assert.deepEqual(readTargetInput('t1', { input: 'nope' }), {
    error: 'Input for target t1 is not a valid JSON text.',
  })
})
