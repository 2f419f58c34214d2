/**
 * Planning a stack: conditions decide resources, outputs and Fn::If branches; names are checked
 * before anything is created; resources come in dependency order (template order otherwise);
 * cycles are named; the forwarding rule plans with its two parameters.
 */
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { TemplateError } from '../../src/deploy/model.js'
import { loadTemplate, planStack } from '../../src/deploy/template/index.js'
import { created, planText, STACK } from './template-helpers.js'

const CONDITIONS = `Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, test, prod]}
  Size: {Type: Number, Default: 1}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsTest: !Equals [test, !Ref Env]
  IsBig: !Equals [!Ref Size, 3]
  ProdOrTest: !Or [!Condition IsProd, !Condition IsTest]
  NotProd: !Not [!Condition IsProd]
  BigProd: !And [!Condition IsProd, !Condition IsBig]
Resources:
  Always:
    Type: Test::Thing
    Properties:
      Mode: !If [IsProd, production, !If [IsTest, testing, development]]
      Flags: [!If [ProdOrTest, checked, unchecked], !If [NotProd, cheap, dear], !If [BigProd, big, small]]
  ProdOnly:
    Type: Test::Thing
    Condition: IsProd
Outputs:
  Mode:
    Value: !If [IsProd, p, d]
    Description: the mode
  ProdThing:
    Condition: IsProd
    Value: !Ref ProdOnly
    Export: {Name: !Sub "\${AWS::StackName}-thing"}
`

describe('conditions', () => {
  test('dev: Fn::Equals, And, Or, Not and nested Fn::If', () => {
    const plan = planText(CONDITIONS)
    assert.deepEqual(
      plan.resources.map((r) => r.logicalId),
      ['Always'],
    )
    assert.deepEqual(
      plan.properties('Always', () => undefined),
      {
        Mode: 'development',
        Flags: ['unchecked', 'cheap', 'small'],
      },
    )
    assert.deepEqual(
      plan.outputs(() => undefined),
      [{ key: 'Mode', value: 'd', description: 'the mode' }],
    )
  })

  test('prod and a Number compared with a YAML number', () => {
    const plan = planText(CONDITIONS, { Env: 'prod', Size: '3' })
    assert.deepEqual(
      plan.resources.map((r) => r.logicalId),
      ['Always', 'ProdOnly'],
    )
    assert.deepEqual(
      plan.properties('Always', () => undefined),
      {
        Mode: 'production',
        Flags: ['checked', 'dear', 'big'],
      },
    )
    const lookup = created({ ProdOnly: { physicalId: 'thing-1', attributes: {} } })
    assert.deepEqual(plan.outputs(lookup), [
      { key: 'Mode', value: 'p', description: 'the mode' },
      { key: 'ProdThing', value: 'thing-1', exportName: 'demo-thing' },
    ])
  })

  test('an unknown condition in Fn::If or a resource Condition is an error with its line', () => {
    assert.throws(
      () => planText('Resources:\n  A:\n    Type: T\n    Properties:\n      V: !If [Nope, a, b]\n'),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 5 &&
        /unresolved condition dependency Nope/.test(err.message),
    )
    assert.throws(
      () => planText('Resources:\n  A:\n    Type: T\n    Condition: Nope\n'),
      (err: unknown) => err instanceof TemplateError && err.line === 2 && /Nope/.test(err.message),
    )
  })

  test('a condition that refers to a resource, or to itself, is an error', () => {
    assert.throws(
      () => planText('Conditions:\n  C: !Equals [!Ref A, x]\nResources:\n  A: {Type: T}\n'),
      /Cannot reference resources in the Conditions block/,
    )
    assert.throws(
      () =>
        planText(
          'Conditions:\n  A: !Not [!Condition B]\n  B: !Not [!Condition A]\nResources:\n  R: {Type: T}\n',
        ),
      /circular dependency between conditions: \[A -> B -> A\]/,
    )
    assert.throws(
      () => planText('Conditions:\n  A: !Ref AWS::Region\nResources:\n  R: {Type: T}\n'),
      /Conditions can only be boolean operations/,
    )
  })

  test('a resource depending on one whose condition is false is an error', () => {
    assert.throws(
      () =>
        planText(
          CONDITIONS.replace(
            'Outputs:',
            '  Other:\n    Type: Test::Thing\n    Properties:\n      V: !Ref ProdOnly\nOutputs:',
          ),
        ),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 23 &&
        /Unresolved resource dependencies \[ProdOnly\]/.test(err.message),
    )
  })
})

describe('names checked at plan time', () => {
  test('a Ref to an unknown name names it and its line', () => {
    assert.throws(
      () =>
        planText(
          'Resources:\n  A:\n    Type: T\n    Properties:\n      X: 1\n      V: !Ref Missing\n',
        ),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 6 &&
        /Unresolved resource dependencies \[Missing\]/.test(err.message),
    )
  })

  test('Fn::GetAtt and Fn::Sub to unknown resources, and a DependsOn to nothing', () => {
    assert.throws(
      () =>
        planText('Resources:\n  A:\n    Type: T\n    Properties:\n      V: !GetAtt Missing.Arn\n'),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 5 &&
        /Fn::GetAtt references undefined resource Missing/.test(err.message),
    )
    assert.throws(
      () =>
        planText('Resources:\n  A:\n    Type: T\n    Properties:\n      V: !Sub "${Missing}"\n'),
      /Unresolved resource dependencies \[Missing\]/,
    )
    assert.throws(
      () => planText('Resources:\n  A:\n    Type: T\n    DependsOn: [Missing]\n'),
      /Unresolved resource dependencies \[Missing\]/,
    )
  })

  test('an unknown pseudo parameter is unresolved', () => {
    assert.throws(
      () => planText('Resources:\n  A:\n    Type: T\n    Properties:\n      V: !Ref AWS::Nope\n'),
      /\[AWS::Nope\]/,
    )
  })
})

describe('creation order', () => {
  test('after dependencies from Ref, GetAtt, Sub and DependsOn; template order otherwise', () => {
    const plan = planText(
      [
        'Resources:',
        '  Rule:',
        '    Type: T',
        '    Properties:',
        '      Target: !GetAtt Fn.Arn',
        '      Bus: !Ref Bus',
        '  Independent: {Type: T}',
        '  Fn:',
        '    Type: T',
        '    DependsOn: Role',
        '    Properties:',
        '      Name: !Sub "${Bus}-fn"',
        '  Bus: {Type: T}',
        '  Role: {Type: T, DependsOn: [Bus]}',
        '  Last: {Type: T}',
      ].join('\n'),
    )
    assert.deepEqual(
      plan.resources.map((r) => r.logicalId),
      ['Independent', 'Bus', 'Role', 'Fn', 'Rule', 'Last'],
    )
    const deps = Object.fromEntries(
      plan.resources.map((r) => [r.logicalId, [...r.dependsOn].sort()]),
    )
    assert.deepEqual(deps, {
      Independent: [],
      Bus: [],
      Role: ['Bus'],
      Fn: ['Bus', 'Role'],
      Rule: ['Bus', 'Fn'],
      Last: [],
    })
  })

  test('only the chosen Fn::If branch makes a dependency', () => {
    const plan = planText(
      'Conditions:\n  No: !Equals [a, b]\nResources:\n  A:\n    Type: T\n    Properties:\n      V: !If [No, !Ref B, x]\n  B: {Type: T}\n',
    )
    assert.deepEqual(
      plan.resources.map((r) => [r.logicalId, r.dependsOn]),
      [
        ['A', []],
        ['B', []],
      ],
    )
  })

  test('a cycle is an error naming its resources', () => {
    assert.throws(
      () =>
        planText(
          'Resources:\n  Free: {Type: T}\n  A:\n    Type: T\n    Properties: {V: !Ref B}\n  B:\n    Type: T\n    Properties: {V: !GetAtt C.Arn}\n  C:\n    Type: T\n    DependsOn: A\n',
        ),
      (err: unknown) =>
        err instanceof TemplateError &&
        /Circular dependency between resources: \[A, B, C\]/.test(err.message) &&
        !err.message.includes('Free'),
    )
    assert.throws(
      () => planText('Resources:\n  A:\n    Type: T\n    Properties: {V: !Ref A}\n'),
      /Circular dependency between resources: \[A\]/,
    )
  })
})

describe('the forwarding rule of issue 13', () => {
  const path = fileURLToPath(new URL('fixtures/central-forwarding.yaml', import.meta.url))

  test('plans with the central account and region as parameters', () => {
    const plan = planStack(loadTemplate(path), {
      ...STACK,
      parameters: { CENTRAL_ACCOUNT_REGION: 'us-east-1', CENTRAL_ACCOUNT_ID: '222222222222' },
    })
    assert.deepEqual(
      plan.resources.map((r) => [r.logicalId, r.type]),
      [['CentralForwardingRule', 'AWS::Events::Rule']],
    )
    assert.equal(plan.baseDir, fileURLToPath(new URL('fixtures', import.meta.url)))
    assert.deepEqual(
      plan.properties('CentralForwardingRule', () => undefined),
      {
        Description: 'イベントを中心的なアカウントに送信するためのルール',
        EventPattern: { source: ['cwi.servicea'] },
        Targets: [
          {
            Arn: 'arn:aws:events:us-east-1:222222222222:event-bus/default',
            Id: 'CentralTarget',
            RoleArn: '<IAM ROLE WITH ACCESS TO PUT CW EVENTS>',
          },
        ],
      },
    )
  })

  test('without its parameters it says which are missing', () => {
    assert.throws(
      () => planStack(loadTemplate(path), { ...STACK, parameters: {} }),
      /Parameters: \[CENTRAL_ACCOUNT_REGION, CENTRAL_ACCOUNT_ID\] must have values/,
    )
  })

  test('a file that does not exist is a TemplateError naming it', () => {
    assert.throws(
      () => loadTemplate('/nonexistent/template.yaml'),
      /cannot read the template \/nonexistent\/template.yaml/,
    )
  })
})

describe('plan details', () => {
  test('propertyLine gives the line of a property, else of its resource', () => {
    const plan = planText(
      'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: q\n\n      DelaySeconds: 5\n',
    )
    assert.equal(plan.propertyLine('Q', 'DelaySeconds'), 7)
    assert.equal(plan.propertyLine('Q', 'Missing'), 2)
  })

  test('a SAM function keeps the lines of its own properties', () => {
    const plan = planText(
      'Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: x\n      Handler: h\n      Runtime: nodejs20.x\n',
    )
    assert.equal(plan.propertyLine('Fn', 'Runtime'), 8)
  })

  test('a stack name CloudFormation would refuse is refused', () => {
    assert.throws(
      () =>
        planStack(
          loadTemplate(fileURLToPath(new URL('fixtures/central-forwarding.yaml', import.meta.url))),
          {
            ...STACK,
            stackName: '1-bad_name',
            parameters: { CENTRAL_ACCOUNT_REGION: 'us-east-1', CENTRAL_ACCOUNT_ID: '222222222222' },
          },
        ),
      /Value '1-bad_name' at 'stackName' failed to satisfy constraint/,
    )
  })
})
