/**
 * CloudFormation-style names: generated physical names fit the type's longest name, stack names
 * follow `[a-zA-Z][-a-zA-Z0-9]*` (at most 128), and a template file's name becomes a stack name.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  generatedName,
  randomSuffix,
  stackNameOfFile,
  stackNameProblem,
} from '../../src/deploy/names.js'

describe('generatedName', () => {
  test('is <stack>-<logicalId>-<suffix> when it fits', () => {
    assert.equal(
      generatedName('shop', 'Forward', 64, 'ABCDEFGHIJKLM'),
      'shop-Forward-ABCDEFGHIJKLM',
    )
  })

  test('shortens the stack and logical id halves to fit, keeping the whole suffix', () => {
    const stack = 's'.repeat(40)
    const id = 'L'.repeat(40)
    const name = generatedName(stack, id, 48, 'ABCDEFGHIJKLM')
    assert.equal(name.length, 48)
    // 48 - 13 - 2 = 33 characters for the two parts: 17 of the stack, 16 of the logical id.
    assert.equal(name, `${'s'.repeat(17)}-${'L'.repeat(16)}-ABCDEFGHIJKLM`)
  })

  test('gives what a short part leaves over to the other', () => {
    const name = generatedName('ab', 'L'.repeat(80), 64, 'ABCDEFGHIJKLM')
    assert.equal(name, `ab-${'L'.repeat(47)}-ABCDEFGHIJKLM`)
    assert.equal(name.length, 64)
  })

  test('a random suffix is 13 uppercase letters and digits, different each time', () => {
    const a = randomSuffix()
    assert.match(a, /^[A-Z0-9]{13}$/)
    assert.notEqual(a, randomSuffix())
  })
})

describe('stack names', () => {
  test('CloudFormation’s rule: a letter, then letters, digits and dashes, at most 128', () => {
    assert.equal(stackNameProblem('orders-2'), undefined)
    assert.match(stackNameProblem('2orders') ?? '', /\[a-zA-Z\]\[-a-zA-Z0-9\]\*/)
    assert.match(stackNameProblem('with_underscore') ?? '', /failed to satisfy constraint/)
    assert.notEqual(stackNameProblem('a'.repeat(129)), undefined)
    assert.equal(stackNameProblem('a'.repeat(128)), undefined)
  })

  test('the template file’s base name, sanitized', () => {
    assert.equal(stackNameOfFile('service-a.yaml'), 'service-a')
    assert.equal(stackNameOfFile('my_template.v2.json'), 'my-template-v2')
    assert.equal(stackNameOfFile('1st.yml'), 'st')
  })
})
