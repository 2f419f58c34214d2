/**
 * Parameters as CloudFormation binds them: defaults, the types, every constraint (with the
 * ConstraintDescription replacing the message when given), missing and unknown values.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TemplateError } from '../../src/deploy/model.js'
import { planText, propsOf } from './template-helpers.js'

function template(params: string, props = 'V: !Ref P'): string {
  return `Parameters:\n${params
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\nResources:\n  R:\n    Type: Test::Thing\n    Properties:\n      ${props}\n`
}

function rejects(
  text: string,
  values: Record<string, string>,
  message: RegExp,
  line?: number,
): void {
  assert.throws(
    () => planText(text, values),
    (err: unknown) =>
      err instanceof TemplateError &&
      message.test(err.message) &&
      (line === undefined || err.line === line),
  )
}

describe('parameter values', () => {
  test('the default applies; an override wins; the plan records both as strings', () => {
    const text = template('P: {Type: Number, Default: 5}')
    assert.deepEqual(propsOf(text), { V: '5' })
    const plan = planText(text, { P: '7' })
    assert.deepEqual(plan.parameters, { P: '7' })
    assert.deepEqual(
      plan.properties('R', () => undefined),
      { V: '7' },
    )
  })

  test('CommaDelimitedList and List<Number> are lists, each member space-trimmed', () => {
    assert.deepEqual(propsOf(template('P: {Type: CommaDelimitedList, Default: "a, b ,c"}')), {
      V: ['a', 'b', 'c'],
    })
    assert.deepEqual(propsOf(template('P: {Type: "List<Number>", Default: "1,2"}')), {
      V: ['1', '2'],
    })
    rejects(
      template('P: {Type: "List<Number>", Default: "1,x"}'),
      {},
      /Parameter 'P' must be a number/,
    )
  })

  test('AWS-specific types are taken as strings (or lists of them)', () => {
    assert.deepEqual(propsOf(template('P: {Type: "AWS::EC2::VPC::Id", Default: vpc-1}')), {
      V: 'vpc-1',
    })
    assert.deepEqual(
      propsOf(template('P: {Type: "List<AWS::EC2::Subnet::Id>", Default: "s-1,s-2"}')),
      { V: ['s-1', 's-2'] },
    )
    rejects(template('P: {Type: Strin}'), { P: 'x' }, /Unrecognized parameter type: Strin/, 2)
  })

  test('a missing value without Default names every such parameter', () => {
    rejects(
      template('P: {Type: String}\nQ: {Type: String}', 'V: !Join ["", [!Ref P, !Ref Q]]'),
      {},
      /Parameters: \[P, Q\] must have values/,
      2,
    )
  })

  test('an override for a parameter the template does not declare is an error naming it', () => {
    rejects(
      template('P: {Type: String, Default: x}'),
      { Nope: '1' },
      /Parameters: \[Nope\] do not exist in the template/,
    )
  })

  test('AllowedValues', () => {
    const text = template('P: {Type: String, AllowedValues: [dev, prod], Default: dev}')
    assert.deepEqual(planText(text, { P: 'prod' }).parameters, { P: 'prod' })
    rejects(text, { P: 'test' }, /Parameter 'P' must be one of AllowedValues/, 2)
  })

  test('AllowedPattern matches the whole value', () => {
    const text = template('P: {Type: String, AllowedPattern: "[a-z]+"}')
    assert.deepEqual(planText(text, { P: 'abc' }).parameters, { P: 'abc' })
    rejects(text, { P: 'abc1' }, /Parameter 'P' must match pattern \[a-z\]\+/)
  })

  test('MinLength and MaxLength', () => {
    const text = template('P: {Type: String, MinLength: 2, MaxLength: 4}')
    rejects(text, { P: 'a' }, /must contain at least 2 characters/)
    rejects(text, { P: 'abcde' }, /must contain at most 4 characters/)
    assert.deepEqual(planText(text, { P: 'abcd' }).parameters, { P: 'abcd' })
  })

  test('Number with MinValue and MaxValue', () => {
    const text = template('P: {Type: Number, MinValue: 1, MaxValue: 10}')
    rejects(text, { P: 'ten' }, /Parameter 'P' must be a number/)
    rejects(text, { P: '0' }, /must be a number not less than 1/)
    rejects(text, { P: '10.5' }, /must be a number not greater than 10/)
    assert.deepEqual(planText(text, { P: '2.5' }).parameters, { P: '2.5' })
  })

  test('ConstraintDescription replaces the message', () => {
    const text = template(
      'P: {Type: String, AllowedPattern: "\\\\d{12}", ConstraintDescription: must be a 12-digit account id}',
    )
    rejects(
      text,
      { P: '12' },
      /Parameter 'P' failed to satisfy constraint: must be a 12-digit account id/,
    )
  })

  test('an unknown parameter property is an error naming it', () => {
    rejects(
      template('P: {Type: String, Defualt: x}'),
      { P: 'x' },
      /Invalid template parameter property 'Defualt'/,
      2,
    )
  })

  test('a default that breaks its own constraints is an error too', () => {
    rejects(
      template('P: {Type: String, AllowedValues: [a], Default: b}'),
      {},
      /must be one of AllowedValues/,
    )
  })
})
