/**
 * Every supported intrinsic function, with the examples and results of the CloudFormation
 * template reference; AWS::NoValue removing keys and list elements; the unsupported ones
 * refused by name and line.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TemplateError } from '../../src/deploy/model.js'
import { created, planText, propsOf, STACK } from './template-helpers.js'

/** A one-resource template whose properties are `props` (YAML, indented by 6). */
function withProps(props: string, head = ''): string {
  return `${head}\nResources:\n  R:\n    Type: Test::Thing\n    Properties:\n${props
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n`
}

describe('intrinsic functions', () => {
  test('Fn::Join', () => {
    assert.deepEqual(propsOf(withProps('V: !Join [":", [a, b, c]]')), { V: 'a:b:c' })
    assert.deepEqual(
      propsOf(
        withProps(
          'V: !Join ["", ["arn:", !Ref "AWS::Partition", ":s3:::elasticbeanstalk-*-", !Ref "AWS::AccountId"]]',
        ),
      ),
      { V: 'arn:aws:s3:::elasticbeanstalk-*-123456789012' },
    )
  })

  test('Fn::Select', () => {
    assert.deepEqual(propsOf(withProps('V: !Select ["1", [apples, grapes, oranges, mangoes]]')), {
      V: 'grapes',
    })
    assert.deepEqual(propsOf(withProps('V: !Select [0, !GetAZs ""]')), { V: 'eu-west-1a' })
  })

  test('Fn::Split', () => {
    assert.deepEqual(propsOf(withProps('V: !Split ["|", "a|b|c"]')), { V: ['a', 'b', 'c'] })
    assert.deepEqual(propsOf(withProps('V: !Split ["|", "a||c|"]')), { V: ['a', '', 'c', ''] })
  })

  test('Fn::Base64', () => {
    assert.deepEqual(propsOf(withProps('V: !Base64 AWS CloudFormation')), {
      V: 'QVdTIENsb3VkRm9ybWF0aW9u',
    })
  })

  test('Fn::GetAZs gives three zones of the region', () => {
    assert.deepEqual(propsOf(withProps('V: !GetAZs ""')), {
      V: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
    })
    assert.deepEqual(propsOf(withProps('V: !GetAZs us-east-2')), {
      V: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
    })
  })

  test('Fn::Sub: pseudo parameters, parameters, variables, GetAtt and ${!Literal}', () => {
    const text = withProps(
      [
        'A: !Sub "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc/${Vpc}"',
        'B: !Sub ["www.${Domain}", {Domain: !Ref RootDomainName}]',
        'C: !Sub "${!Literal}-${ Vpc }"',
        'D: !Sub "${Q.Arn}|${Q}"',
      ].join('\n'),
      'Parameters:\n  Vpc: {Type: String}\n  RootDomainName: {Type: String, Default: example.com}\n' +
        'Conditions: {}',
    ).replace('Resources:\n', 'Resources:\n  Q:\n    Type: Test::Queue\n')
    const plan = planText(text, { Vpc: 'vpc-1' })
    const props = plan.properties(
      'R',
      created({ Q: { physicalId: 'q-1', attributes: { Arn: 'arn:q' } } }),
    )
    assert.deepEqual(props, {
      A: 'arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1',
      B: 'www.example.com',
      C: '${Literal}-vpc-1',
      D: 'arn:q|q-1',
    })
    assert.deepEqual(plan.resources.find((r) => r.logicalId === 'R')?.dependsOn, ['Q'])
  })

  test('Fn::Sub with a bad variable name is an error', () => {
    assert.throws(() => propsOf(withProps('V: !Sub "${a b}"')), /variable names in Fn::Sub syntax/)
  })

  test('Fn::FindInMap, with the LanguageExtensions DefaultValue', () => {
    const head = [
      'Mappings:',
      '  RegionMap:',
      '    us-east-1: {HVM64: ami-0ff8a91507f77f867, HVMG2: ami-0a584ac55a7631c0c}',
      '    eu-west-1: {HVM64: ami-047bb4163c506cd98, HVMG2: ami-0a7c483d527806435}',
    ].join('\n')
    assert.deepEqual(
      propsOf(withProps('V: !FindInMap [RegionMap, !Ref "AWS::Region", HVM64]', head)),
      {
        V: 'ami-047bb4163c506cd98',
      },
    )
    assert.deepEqual(
      propsOf(
        withProps('V: !FindInMap [RegionMap, ap-south-1, HVM64, {DefaultValue: none}]', head),
      ),
      {
        V: 'none',
      },
    )
    assert.throws(
      () => propsOf(withProps('V: !FindInMap [RegionMap, ap-south-1, HVM64]', head)),
      /Unable to get mapping for RegionMap::ap-south-1::HVM64/,
    )
  })

  test('Fn::ToJsonString and Fn::Length', () => {
    const head =
      'Transform: AWS::LanguageExtensions\nParameters:\n  P: {Type: String, Default: v2}\n  L: {Type: CommaDelimitedList, Default: "a,b,c"}'
    assert.deepEqual(
      propsOf(
        withProps(
          'J: !ToJsonString {key1: value1, key2: !Ref P}\nN: !Length [1, !Ref P, 3]\nM: !Length {Ref: L}',
          head,
        ),
      ),
      { J: '{"key1":"value1","key2":"v2"}', N: 3, M: 3 },
    )
  })

  test('Fn::GetAtt reads the created attributes; an unknown one names resource, attribute, line and the known ones', () => {
    const text =
      'Resources:\n  Q:\n    Type: Test::Queue\n  R:\n    Type: Test::Thing\n    Properties:\n      V: !GetAtt Q.Arn\n      W: !GetAtt [Q, QueueUrl]\n'
    const plan = planText(text)
    const lookup = created({
      Q: { physicalId: 'q', attributes: { Arn: 'arn:q', QueueUrl: 'http://q' } },
    })
    assert.deepEqual(plan.properties('R', lookup), { V: 'arn:q', W: 'http://q' })
    const bad = planText(text.replace('Q.Arn', 'Q.Nope'))
    assert.throws(
      () => bad.properties('R', lookup),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 7 &&
        /resource Q does not support attribute Nope/.test(err.message) &&
        /\[Arn, QueueUrl\]/.test(err.message),
    )
  })

  test('Ref to a resource is its physical id', () => {
    const plan = planText(
      'Resources:\n  Q:\n    Type: Test::Queue\n  R:\n    Type: Test::Thing\n    Properties:\n      V: !Ref Q\n',
    )
    assert.deepEqual(
      plan.properties('R', created({ Q: { physicalId: 'queue-1', attributes: {} } })),
      { V: 'queue-1' },
    )
  })
})

describe('pseudo parameters', () => {
  test('each one', () => {
    const props = propsOf(
      withProps(
        [
          'Account: !Ref AWS::AccountId',
          'Region: !Ref AWS::Region',
          'Partition: !Ref AWS::Partition',
          'Name: !Ref AWS::StackName',
          'Id: !Ref AWS::StackId',
          'Suffix: !Ref AWS::URLSuffix',
          'Notify: !Ref AWS::NotificationARNs',
        ].join('\n'),
      ),
    )
    assert.equal(props.Account, STACK.account)
    assert.equal(props.Region, 'eu-west-1')
    assert.equal(props.Partition, 'aws')
    assert.equal(props.Name, 'demo')
    assert.match(
      String(props.Id),
      /^arn:aws:cloudformation:eu-west-1:123456789012:stack\/demo\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    )
    assert.equal(props.Suffix, 'amazonaws.com')
    assert.deepEqual(props.Notify, [])
  })

  test('the stack id stays the same from one plan to the next', () => {
    const text = withProps('Id: !Ref AWS::StackId')
    assert.equal(propsOf(text).Id, propsOf(text).Id)
  })

  test('AWS::NoValue removes the key, or the list element', () => {
    const head =
      'Parameters:\n  Env: {Type: String, Default: dev}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]'
    const props = propsOf(
      withProps(
        [
          'Kept: x',
          'Gone: !Ref AWS::NoValue',
          'OnlyInProd: !If [IsProd, big, !Ref AWS::NoValue]',
          'List: [a, !If [IsProd, b, !Ref AWS::NoValue], c]',
        ].join('\n'),
        head,
      ),
    )
    assert.deepEqual(props, { Kept: 'x', List: ['a', 'c'] })
  })
})

describe('Properties chosen whole', () => {
  test('Properties: !If with AWS::NoValue leaves none', () => {
    const text =
      'Conditions:\n  No: !Equals [a, b]\nResources:\n  R:\n    Type: T\n    Properties: !If [No, {A: 1}, !Ref AWS::NoValue]\n'
    assert.deepEqual(
      planText(text).properties('R', () => undefined),
      {},
    )
  })
})

describe('unsupported intrinsic functions', () => {
  for (const [name, yaml] of [
    ['Fn::ImportValue', 'V: !ImportValue SharedVpc'],
    ['Fn::Cidr', 'V: !Cidr ["10.0.0.0/16", 4, 8]'],
    ['Fn::Transform', 'V: !Transform {Name: AWS::Include}'],
    ['Fn::ForEach', 'V: {"Fn::ForEach": []}'],
  ] as const) {
    test(`${name} is refused at plan time with its line and the supported list`, () => {
      assert.throws(
        () => planText(withProps(`A: 1\n${yaml}`)),
        (err: unknown) =>
          err instanceof TemplateError &&
          err.line === 7 &&
          err.message.includes(`${name} is not supported`) &&
          err.message.includes('Fn::Sub') &&
          err.message.includes('Fn::FindInMap'),
      )
    })
  }

  test('a condition function in Properties is refused', () => {
    assert.throws(
      () => propsOf(withProps('V: !Equals [a, a]')),
      /Fn::Equals can only be used in the Conditions section/,
    )
  })

  test('keys that name Object members are data too', () => {
    const head = 'Mappings:\n  M:\n    a: {b: c}'
    assert.deepEqual(propsOf(withProps('V: {constructor: x}\nW: {toString: y}', head)), {
      V: { constructor: 'x' },
      W: { toString: 'y' },
    })
    assert.throws(
      () => propsOf(withProps('V: !FindInMap [M, a, constructor]', head)),
      /Unable to get mapping for M::a::constructor/,
    )
  })

  test('a property named Condition is data, not the Condition function', () => {
    assert.deepEqual(propsOf(withProps('Statement:\n  - Condition: {StringEquals: {a: b}}')), {
      Statement: [{ Condition: { StringEquals: { a: 'b' } } }],
    })
  })
})
