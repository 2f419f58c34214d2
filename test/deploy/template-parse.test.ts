/**
 * Reading templates: every YAML short form becomes its long form (as the CloudFormation
 * template reference writes it), JSON templates read the same, and syntax errors and resources
 * carry their line in the file.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TemplateError } from '../../src/deploy/model.js'
import { parseTemplateText } from '../../src/deploy/template/parse.js'
import { parseTemplate } from '../../src/deploy/template/index.js'
import { planText } from './template-helpers.js'

function bodyOf(yaml: string): Record<string, unknown> {
  return parseTemplateText(yaml, 't.yaml').body as Record<string, unknown>
}

describe('YAML short forms', () => {
  test('scalar forms become the long forms', () => {
    const body = bodyOf(
      [
        'a: !Ref MyBucket',
        'b: !Sub "arn:${AWS::Partition}:s3:::${MyBucket}"',
        'c: !GetAtt MyQueue.Arn',
        'd: !Base64 hello',
        'e: !GetAZs ""',
        'f: !ImportValue SharedVpc',
        'g: !Condition IsProd',
        'h: !GetAZs',
      ].join('\n'),
    )
    assert.deepEqual(body, {
      a: { Ref: 'MyBucket' },
      b: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${MyBucket}' },
      c: { 'Fn::GetAtt': ['MyQueue', 'Arn'] },
      d: { 'Fn::Base64': 'hello' },
      e: { 'Fn::GetAZs': '' },
      f: { 'Fn::ImportValue': 'SharedVpc' },
      g: { Condition: 'IsProd' },
      h: { 'Fn::GetAZs': '' },
    })
  })

  test('!GetAtt splits at the first dot only', () => {
    assert.deepEqual(bodyOf('a: !GetAtt MyDB.Endpoint.Address').a, {
      'Fn::GetAtt': ['MyDB', 'Endpoint.Address'],
    })
  })

  test('sequence forms, nested', () => {
    const body = bodyOf(
      [
        'join: !Join [":", [a, b, c]]',
        'select: !Select [1, !Split [",", "x,y"]]',
        'if: !If [IsProd, !Ref Big, !Ref "AWS::NoValue"]',
        'eq: !Equals [!Ref Env, prod]',
        'and: !And [!Condition A, !Not [!Condition B]]',
        'or: !Or [!Condition A, !Condition B]',
        'map: !FindInMap [RegionMap, !Ref "AWS::Region", AMI]',
        'cidr: !Cidr ["10.0.0.0/16", 4, 8]',
        'sub: !Sub ["${A}-${B}", {A: x, B: !Ref P}]',
        'getatt: !GetAtt [MyQueue, Arn]',
        'len: !Length [1, 2]',
      ].join('\n'),
    )
    assert.deepEqual(body, {
      join: { 'Fn::Join': [':', ['a', 'b', 'c']] },
      select: { 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y'] }] },
      if: { 'Fn::If': ['IsProd', { Ref: 'Big' }, { Ref: 'AWS::NoValue' }] },
      eq: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
      and: { 'Fn::And': [{ Condition: 'A' }, { 'Fn::Not': [{ Condition: 'B' }] }] },
      or: { 'Fn::Or': [{ Condition: 'A' }, { Condition: 'B' }] },
      map: { 'Fn::FindInMap': ['RegionMap', { Ref: 'AWS::Region' }, 'AMI'] },
      cidr: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] },
      sub: { 'Fn::Sub': ['${A}-${B}', { A: 'x', B: { Ref: 'P' } }] },
      getatt: { 'Fn::GetAtt': ['MyQueue', 'Arn'] },
      len: { 'Fn::Length': [1, 2] },
    })
  })

  test('mapping forms', () => {
    const body = bodyOf(
      [
        'json: !ToJsonString',
        '  key1: value1',
        '  key2: !Ref P',
        'b64: !Base64 {"Fn::Sub": "x-${P}"}',
        'tr: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}',
      ].join('\n'),
    )
    assert.deepEqual(body, {
      json: { 'Fn::ToJsonString': { key1: 'value1', key2: { Ref: 'P' } } },
      b64: { 'Fn::Base64': { 'Fn::Sub': 'x-${P}' } },
      tr: { 'Fn::Transform': { Name: 'AWS::Include', Parameters: { Location: 's3://b/k' } } },
    })
  })

  test('an unknown tag is an error naming it, its line and the short forms', () => {
    assert.throws(
      () => bodyOf('a: 1\nb: !Reff X\n'),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 2 &&
        /unknown tag !Reff/.test(err.message) &&
        /!GetAtt/.test(err.message),
    )
  })

  test('a YAML syntax error names its line', () => {
    assert.throws(
      () => bodyOf('Resources:\n  A:\n    Type: x\n   bad: [\n'),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line !== undefined &&
        err.line >= 3 &&
        /invalid YAML/.test(err.message),
    )
  })

  test('an unquoted account id with a leading zero keeps its digits', () => {
    assert.equal(bodyOf('a: 012345678901').a, '012345678901')
    assert.equal(bodyOf('a: 300').a, 300)
  })
})

describe('lines', () => {
  test('resources know the line of their logical id', () => {
    const plan = planText(
      [
        'Resources:',
        '  First:',
        '    Type: AWS::SQS::Queue',
        '',
        '  Second:',
        '    Type: AWS::SQS::Queue',
      ].join('\n'),
    )
    assert.deepEqual(
      plan.resources.map((r) => [r.logicalId, r.line]),
      [
        ['First', 2],
        ['Second', 5],
      ],
    )
  })

  test('an error inside Properties names the line of the value at fault', () => {
    const text = [
      'Resources:',
      '  Q:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      QueueName: ok',
      '      Tags:',
      '        - Key: k',
      '          Value: !Select [5, [a, b]]',
    ].join('\n')
    assert.throws(
      () => planText(text).properties('Q', () => undefined),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 8 &&
        /Fn::Select cannot select nonexistent value at index 5/.test(err.message),
    )
  })
})

describe('JSON templates', () => {
  const json = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": { "Env": { "Type": "String", "Default": "dev" } },
  "Resources": {
    "Queue": {
      "Type": "AWS::SQS::Queue",
      "Properties": { "QueueName": { "Fn::Join": ["-", [{ "Ref": "AWS::StackName" }, { "Ref": "Env" }]] } }
    },
    "Topic": {
      "Type": "AWS::SQS::Queue",
      "DependsOn": "Queue",
      "Properties": { "QueueName": { "Fn::GetAtt": ["Queue", "QueueName"] } }
    }
  }
}`

  test('read with the same intrinsics, resources with their lines', () => {
    const plan = planText(json, {}, '/t/template.json')
    assert.deepEqual(
      plan.resources.map((r) => [r.logicalId, r.line, r.dependsOn]),
      [
        ['Queue', 5, []],
        ['Topic', 9, ['Queue']],
      ],
    )
    assert.deepEqual(
      plan.properties('Queue', () => undefined),
      { QueueName: 'demo-dev' },
    )
  })

  test('a .yaml template in YAML flow style (not JSON) still reads as YAML', () => {
    const plan = planText('{Resources: {A: {Type: T, Properties: {V: !Ref AWS::Region}}}}')
    assert.deepEqual(
      plan.properties('A', () => undefined),
      { V: 'eu-west-1' },
    )
  })

  test('a JSON syntax error names its line', () => {
    assert.throws(
      () => parseTemplate('{\n  "Resources": {\n    "A": { "Type": "x", }\n  }\n}', '/t/bad.json'),
      (err: unknown) =>
        err instanceof TemplateError && err.line === 3 && /invalid JSON/.test(err.message),
    )
  })

  test('JSON the YAML reader refuses (tab indentation) still loads, resources found by a scan', () => {
    const tabbed = '{\n\t"Resources": {\n\t\t"A": {\n\t\t\t"Type": "AWS::SQS::Queue"\n\t\t}\n\t}\n}'
    const plan = planText(tabbed, {}, '/t/tabs.json')
    assert.deepEqual(
      plan.resources.map((r) => [r.logicalId, r.line]),
      [['A', 3]],
    )
  })
})

describe('template structure', () => {
  test('an unknown top-level section is an error naming it and its line', () => {
    assert.throws(
      () => planText('Resources:\n  A:\n    Type: AWS::SQS::Queue\nResource:\n  B: {}\n'),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 4 &&
        /Invalid template property or properties \[Resource\]/.test(err.message),
    )
  })

  test('a resource without Type, or with an unknown attribute, is an error', () => {
    assert.throws(
      () => planText('Resources:\n  A:\n    Properties: {}\n'),
      /Every Resources object must contain a Type member/,
    )
    assert.throws(
      () => planText('Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Propertys: {}\n'),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 4 &&
        /Invalid template resource property 'Propertys'/.test(err.message),
    )
  })

  test('a template with no resources is an error', () => {
    assert.throws(
      () => planText('Resources: {}\n'),
      /At least one Resources member must be defined/,
    )
  })

  test('DeletionPolicy: Retain kept, Snapshot deletes, anything else an error', () => {
    const plan = planText(
      [
        'Resources:',
        '  A: {Type: AWS::SQS::Queue, DeletionPolicy: Retain}',
        '  B: {Type: AWS::SQS::Queue, DeletionPolicy: Snapshot}',
        '  C: {Type: AWS::SQS::Queue}',
      ].join('\n'),
    )
    assert.deepEqual(
      plan.resources.map((r) => r.deletionPolicy),
      ['Retain', 'Delete', 'Delete'],
    )
    assert.throws(
      () => planText('Resources:\n  A: {Type: X, DeletionPolicy: Keep}\n'),
      /DeletionPolicy must be one of/,
    )
  })
})
