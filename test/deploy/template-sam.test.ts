/**
 * The SAM transform: AWS::Serverless::Function to AWS::Lambda::Function under the same logical
 * id, Globals merged by SAM's rules, and the resources SAM generates with the logical ids the
 * SAM developer guide gives ("CloudFormation resources generated when AWS::Serverless::Function
 * is specified"): `<Function>Role`, `<Function><Event>`, `<Function><Event>Permission`.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TemplateError } from '../../src/deploy/model.js'
import { created, nothing, planText } from './template-helpers.js'

const HEAD = 'Transform: AWS::Serverless-2016-10-31\n'

const FN_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:fn'
const made = created({
  Fn: { physicalId: 'fn', attributes: { Arn: FN_ARN } },
  FnRole: { physicalId: 'fn-role', attributes: { Arn: 'arn:aws:iam::123456789012:role/fn-role' } },
  Bus: { physicalId: 'bus', attributes: { Arn: 'arn:bus', Name: 'bus' } },
  Queue: { physicalId: 'https://q', attributes: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:q' } },
  FnOnWidget: {
    physicalId: 'rule',
    attributes: { Arn: 'arn:aws:events:eu-west-1:123456789012:rule/r' },
  },
  FnEveryMinute: {
    physicalId: 'rule2',
    attributes: { Arn: 'arn:aws:events:eu-west-1:123456789012:rule/r2' },
  },
  FnNightlyRole: {
    physicalId: 'sched-role',
    attributes: { Arn: 'arn:aws:iam::123456789012:role/sched' },
  },
})

const FULL = `${HEAD}Globals:
  Function:
    Runtime: nodejs20.x
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        TABLE: global-table
        STAGE: dev
    Layers: [arn:layer:1]
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: widgets}
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/validator/
      Handler: index.handler
      Timeout: 30
      Environment:
        Variables:
          TABLE: own-table
      Layers: [arn:layer:2]
      Tags: {team: widgets}
      Policies:
        - AmazonSQSReadOnlyAccess
        - Statement: [{Effect: Allow, Action: events:PutEvents, Resource: "*"}]
        - SQSSendMessagePolicy: {QueueName: invalid}
      Events:
        OnWidget:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {source: [cwi.servicea]}
            InputPath: $.detail
            RetryPolicy: {MaximumRetryAttempts: 3}
        EveryMinute:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{"report": true}'
            Enabled: false
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 2 * * ? *)
            ScheduleExpressionTimezone: Europe/Paris
        Inbox:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Queue.Arn}
`

describe('AWS::Serverless::Function', () => {
  const plan = planText(FULL)
  const byId = new Map(plan.resources.map((r) => [r.logicalId, r]))

  test('generates the resources SAM names, all on the function line, in dependency order', () => {
    assert.deepEqual(Object.fromEntries(plan.resources.map((r) => [r.logicalId, r.type])), {
      Bus: 'AWS::Events::EventBus',
      Queue: 'AWS::SQS::Queue',
      FnRole: 'AWS::IAM::Role',
      Fn: 'AWS::Lambda::Function',
      FnOnWidget: 'AWS::Events::Rule',
      FnOnWidgetPermission: 'AWS::Lambda::Permission',
      FnEveryMinute: 'AWS::Events::Rule',
      FnEveryMinutePermission: 'AWS::Lambda::Permission',
      FnNightlyRole: 'AWS::IAM::Role',
      FnNightly: 'AWS::Scheduler::Schedule',
      FnInbox: 'AWS::Lambda::EventSourceMapping',
      FnEventInvokeConfig: 'AWS::Lambda::EventInvokeConfig',
    })
    for (const id of [
      'Fn',
      'FnRole',
      'FnOnWidget',
      'FnNightly',
      'FnInbox',
      'FnEventInvokeConfig',
    ]) {
      assert.equal(byId.get(id)?.line, 18, id)
    }
    const order = plan.resources.map((r) => r.logicalId)
    const before = (a: string, b: string) =>
      assert.ok(order.indexOf(a) < order.indexOf(b), `${a} before ${b}`)
    before('FnRole', 'Fn')
    before('Fn', 'FnOnWidget')
    before('FnOnWidget', 'FnOnWidgetPermission')
    before('FnNightlyRole', 'FnNightly')
    before('Queue', 'FnInbox')
  })

  test('the function: Globals merged (maps merged, lists concatenated, scalars overridden), code, tags, role', () => {
    assert.deepEqual(plan.properties('Fn', made), {
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Timeout: 30,
      MemorySize: 256,
      Environment: { Variables: { TABLE: 'own-table', STAGE: 'dev' } },
      Layers: ['arn:layer:1', 'arn:layer:2'],
      Code: 'src/validator/',
      Tags: [
        { Key: 'lambda:createdBy', Value: 'SAM' },
        { Key: 'team', Value: 'widgets' },
      ],
      Role: 'arn:aws:iam::123456789012:role/fn-role',
    })
  })

  test('the role: Lambda may assume it, basic execution and SQS polling, the Policies', () => {
    const role = plan.properties('FnRole', made)
    assert.deepEqual(role.AssumeRolePolicyDocument, {
      Version: '2012-10-17',
      Statement: [
        {
          Action: ['sts:AssumeRole'],
          Effect: 'Allow',
          Principal: { Service: ['lambda.amazonaws.com'] },
        },
      ],
    })
    assert.deepEqual(role.ManagedPolicyArns, [
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      'arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole',
      'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess',
    ])
    assert.deepEqual(role.Policies, [
      {
        PolicyName: 'FnRolePolicy1',
        PolicyDocument: {
          Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }],
        },
      },
      {
        PolicyName: 'FnRolePolicy2',
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: ['sqs:SendMessage*'],
              Resource: 'arn:aws:sqs:eu-west-1:123456789012:invalid',
            },
          ],
        },
      },
    ])
  })

  test('EventBridgeRule: a rule on the bus targeting the function, and its permission', () => {
    assert.deepEqual(plan.properties('FnOnWidget', made), {
      EventPattern: { source: ['cwi.servicea'] },
      EventBusName: 'bus',
      Targets: [
        {
          Arn: FN_ARN,
          Id: 'FnOnWidgetLambdaTarget',
          InputPath: '$.detail',
          RetryPolicy: { MaximumRetryAttempts: 3 },
        },
      ],
    })
    assert.deepEqual(plan.properties('FnOnWidgetPermission', made), {
      Action: 'lambda:InvokeFunction',
      FunctionName: 'fn',
      Principal: 'events.amazonaws.com',
      SourceArn: 'arn:aws:events:eu-west-1:123456789012:rule/r',
    })
  })

  test('Schedule: a scheduled rule, Enabled: false as State DISABLED', () => {
    assert.deepEqual(plan.properties('FnEveryMinute', made), {
      ScheduleExpression: 'rate(1 minute)',
      State: 'DISABLED',
      Targets: [{ Arn: FN_ARN, Id: 'FnEveryMinuteLambdaTarget', Input: '{"report": true}' }],
    })
  })

  test('ScheduleV2: a Scheduler schedule, FlexibleTimeWindow OFF by default, with its own role', () => {
    assert.deepEqual(plan.properties('FnNightly', made), {
      Name: 'FnNightly',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: FN_ARN, RoleArn: 'arn:aws:iam::123456789012:role/sched' },
    })
    const role = plan.properties('FnNightlyRole', made)
    assert.deepEqual(role.AssumeRolePolicyDocument, {
      Version: '2012-10-17',
      Statement: [
        {
          Action: ['sts:AssumeRole'],
          Effect: 'Allow',
          Principal: { Service: ['scheduler.amazonaws.com'] },
        },
      ],
    })
  })

  test('SQS: an event source mapping from the queue', () => {
    assert.deepEqual(plan.properties('FnInbox', made), {
      EventSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:q',
      FunctionName: 'fn',
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    })
  })

  test('EventInvokeConfig', () => {
    assert.deepEqual(plan.properties('FnEventInvokeConfig', made), {
      FunctionName: 'fn',
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:eu-west-1:123456789012:q' } },
    })
  })
})

describe('SAM function variations', () => {
  const fn = (props: string, attrs = '') =>
    `${HEAD}Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n${attrs}    Properties:\n${props
      .split('\n')
      .map((l) => `      ${l}`)
      .join('\n')}\n`

  test('InlineCode, a given Role (no role generated), DeadLetterQueue, Tracing', () => {
    const plan = planText(
      fn(
        'InlineCode: "exports.handler = async () => 1"\nHandler: index.handler\nRuntime: nodejs20.x\nRole: arn:aws:iam::123456789012:role/mine\nDeadLetterQueue: {Type: SQS, TargetArn: arn:q}\nTracing: Active',
      ),
    )
    assert.deepEqual(
      plan.resources.map((r) => r.logicalId),
      ['Fn'],
    )
    const props = plan.properties('Fn', nothing)
    assert.deepEqual(props.Code, { ZipFile: 'exports.handler = async () => 1' })
    assert.equal(props.Role, 'arn:aws:iam::123456789012:role/mine')
    assert.deepEqual(props.DeadLetterConfig, { TargetArn: 'arn:q' })
    assert.deepEqual(props.TracingConfig, { Mode: 'Active' })
  })

  test('CodeUri as S3 location', () => {
    const plan = planText(
      fn('CodeUri: s3://bucket/key.zip\nHandler: h\nRuntime: nodejs20.x\nRole: r'),
    )
    assert.deepEqual(plan.properties('Fn', nothing).Code, { S3Bucket: 'bucket', S3Key: 'key.zip' })
    const plan2 = planText(
      fn('CodeUri: {Bucket: b, Key: k, Version: "3"}\nHandler: h\nRuntime: nodejs20.x\nRole: r'),
    )
    assert.deepEqual(plan2.properties('Fn', nothing).Code, {
      S3Bucket: 'b',
      S3Key: 'k',
      S3ObjectVersion: '3',
    })
  })

  test("the function's Condition and DeletionPolicy", () => {
    const text = fn(
      'InlineCode: x\nHandler: h\nRuntime: nodejs20.x\nEvents:\n  Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}',
      '    Condition: On\n    DeletionPolicy: Retain\n',
    ).replace(
      'Resources:',
      'Parameters:\n  Enable: {Type: String, Default: "no"}\nConditions:\n  On: !Equals [!Ref Enable, "yes"]\nResources:',
    )
    assert.deepEqual(planText(text).resources, [])
    const plan = planText(text, { Enable: 'yes' })
    assert.deepEqual(
      plan.resources.map((r) => [r.logicalId, r.deletionPolicy]),
      [
        ['FnRole', 'Delete'],
        ['Fn', 'Retain'],
        ['FnTick', 'Delete'],
        ['FnTickPermission', 'Delete'],
      ],
    )
  })

  test('an event dead-letter queue created with the stack', () => {
    const plan = planText(
      fn(
        'InlineCode: x\nHandler: h\nRuntime: nodejs20.x\nRole: r\nEvents:\n  Rule:\n    Type: EventBridgeRule\n    Properties: {Pattern: {source: [a]}, DeadLetterConfig: {Type: SQS}}',
      ),
    )
    assert.deepEqual(plan.resources.map((r) => r.logicalId).sort(), [
      'Fn',
      'FnRule',
      'FnRulePermission',
      'FnRuleQueue',
      'FnRuleQueuePolicy',
    ])
    const rule = plan.properties(
      'FnRule',
      created({
        Fn: { physicalId: 'fn', attributes: { Arn: 'arn:fn' } },
        FnRuleQueue: { physicalId: 'q', attributes: { Arn: 'arn:dlq' } },
      }),
    )
    assert.deepEqual(rule.Targets, [
      { Arn: 'arn:fn', Id: 'FnRuleLambdaTarget', DeadLetterConfig: { Arn: 'arn:dlq' } },
    ])
  })

  const rejects = (text: string, message: RegExp, line?: number) =>
    assert.throws(
      () => planText(text),
      (err: unknown) =>
        err instanceof TemplateError &&
        message.test(err.message) &&
        (line === undefined || err.line === line),
    )

  test('an unsupported event type names it and the supported ones', () => {
    rejects(
      fn(
        'InlineCode: x\nHandler: h\nRuntime: nodejs20.x\nEvents:\n  Web: {Type: Api, Properties: {Path: /, Method: get}}',
      ),
      /event Web has type Api, which is not supported; the supported event types are EventBridgeRule, CloudWatchEvent, Schedule, ScheduleV2, SQS/,
      3,
    )
  })

  test('an unsupported property names it and the supported ones', () => {
    rejects(
      fn('InlineCode: x\nHandler: h\nRuntime: nodejs20.x\nAutoPublishAlias: live'),
      /AutoPublishAlias is not supported; the supported properties are .*CodeUri/,
      3,
    )
    rejects(
      fn(
        'InlineCode: x\nHandler: h\nRuntime: nodejs20.x\nEvents:\n  E: {Type: SQS, Properties: {Queue: q, Nope: 1}}',
      ),
      /Nope is not supported/,
    )
  })

  test('code: exactly one of InlineCode or CodeUri', () => {
    rejects(fn('Handler: h\nRuntime: nodejs20.x'), /Either 'InlineCode' or 'CodeUri' must be set/)
    rejects(
      fn('InlineCode: x\nCodeUri: src/\nHandler: h\nRuntime: nodejs20.x'),
      /Only one of 'InlineCode' or 'CodeUri' can be set/,
    )
  })

  test('other SAM resource types are refused by name', () => {
    rejects(
      `${HEAD}Resources:\n  Api:\n    Type: AWS::Serverless::Api\n`,
      /AWS::Serverless::Api is not supported; the supported SAM resource types are AWS::Serverless::Function/,
      3,
    )
  })

  test('a SAM resource or Globals without the transform, and other transforms', () => {
    rejects(
      'Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n',
      /needs Transform: AWS::Serverless-2016-10-31/,
      2,
    )
    rejects(
      'Transform: AWS::Include\nResources:\n  A: {Type: T}\n',
      /Transform AWS::Include is not supported/,
      1,
    )
    rejects(
      `${HEAD}Globals:\n  Api: {}\nResources:\n  A: {Type: T}\n`,
      /Globals section Api is not supported/,
    )
  })

  test('Globals.Function may not set what SAM keeps per function', () => {
    rejects(
      `${HEAD}Globals:\n  Function:\n    Events: {}\nResources:\n  A: {Type: T}\n`,
      /Globals.Function: Events is not supported/,
    )
  })

  test('the transform as a list with LanguageExtensions', () => {
    const plan = planText(
      'Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {InlineCode: x, Handler: h, Runtime: nodejs20.x}\n',
    )
    assert.deepEqual(
      plan.resources.map((r) => r.type),
      ['AWS::IAM::Role', 'AWS::Lambda::Function'],
    )
  })

  test('an unknown policy template is refused, naming the supported ones', () => {
    rejects(
      fn(
        'InlineCode: x\nHandler: h\nRuntime: nodejs20.x\nPolicies:\n  - DynamoDBCrudPolicy: {TableName: t}',
      ),
      /policy template DynamoDBCrudPolicy is not supported.*SQSPollerPolicy/,
    )
  })
})

describe('SAM in JSON', () => {
  test('a JSON SAM template transforms the same way', () => {
    const json = JSON.stringify(
      {
        Transform: 'AWS::Serverless-2016-10-31',
        Resources: {
          Reporter: {
            Type: 'AWS::Serverless::Function',
            Properties: {
              CodeUri: 'reporter.zip',
              Handler: 'index.handler',
              Runtime: 'nodejs20.x',
              Events: {
                Tick: {
                  Type: 'ScheduleV2',
                  Properties: { ScheduleExpression: 'rate(1 minute)', RoleArn: 'arn:role' },
                },
              },
            },
          },
        },
      },
      null,
      2,
    )
    const plan = planText(json, {}, '/t/sam.json')
    assert.deepEqual(
      plan.resources.map((r) => [r.logicalId, r.type, r.line]),
      [
        ['ReporterRole', 'AWS::IAM::Role', 4],
        ['Reporter', 'AWS::Lambda::Function', 4],
        ['ReporterTick', 'AWS::Scheduler::Schedule', 4],
      ],
    )
    const lookup = created({
      Reporter: { physicalId: 'reporter', attributes: { Arn: 'arn:reporter' } },
    })
    assert.deepEqual(plan.properties('ReporterTick', lookup), {
      Name: 'ReporterTick',
      ScheduleExpression: 'rate(1 minute)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:reporter', RoleArn: 'arn:role' },
    })
    assert.equal(
      plan.properties(
        'Reporter',
        created({ ReporterRole: { physicalId: 'r', attributes: { Arn: 'arn:r' } } }),
      ).Code,
      'reporter.zip',
    )
  })

  test('an error in a property set by Globals names the line where Globals set it', () => {
    const text = `${HEAD}Globals:\n  Function:\n    Timeout: !Select [3, [1]]\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {InlineCode: x, Handler: h, Runtime: nodejs20.x, Role: r}\n`
    assert.throws(
      () => planText(text).properties('Fn', nothing),
      (err: unknown) =>
        err instanceof TemplateError &&
        err.line === 4 &&
        /nonexistent value at index 3/.test(err.message),
    )
  })
})
