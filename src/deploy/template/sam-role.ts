/**
 * @module
 * The execution role SAM generates for a function without a Role, `<Function>Role`: Lambda may
 * assume it, it has AWSLambdaBasicExecutionRole (and AWSLambdaSQSQueueExecutionRole when an SQS
 * event polls), and the function's Policies: managed policy names or ARNs, policy documents, and
 * a few SAM policy templates.
 */
import { TemplateError } from '../model.js'
import { assumeRolePolicy, compact } from './sam-support.js'
import { isRecord, own } from './template.js'

const managed = (path: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::aws:policy/${path}` })

const arnSub = (service: string, resource: string, name: string, value: unknown) => ({
  'Fn::Sub': [
    `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`,
    { [name]: value },
  ],
})

type PolicyTemplate = { parameter: string; statement(value: unknown): Record<string, unknown> }

const POLICY_TEMPLATES: Record<string, PolicyTemplate> = {
  SQSPollerPolicy: {
    parameter: 'QueueName',
    statement: (q) => ({
      Effect: 'Allow',
      Action: [
        'sqs:ChangeMessageVisibility',
        'sqs:ChangeMessageVisibilityBatch',
        'sqs:DeleteMessage',
        'sqs:DeleteMessageBatch',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ],
      Resource: arnSub('sqs', '${queueName}', 'queueName', q),
    }),
  },
  SQSSendMessagePolicy: {
    parameter: 'QueueName',
    statement: (q) => ({
      Effect: 'Allow',
      Action: ['sqs:SendMessage*'],
      Resource: arnSub('sqs', '${queueName}', 'queueName', q),
    }),
  },
  LambdaInvokePolicy: {
    parameter: 'FunctionName',
    statement: (f) => ({
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: arnSub('lambda', 'function:${functionName}*', 'functionName', f),
    }),
  },
  EventBridgePutEventsPolicy: {
    parameter: 'EventBusName',
    statement: (b) => ({
      Effect: 'Allow',
      Action: ['events:PutEvents'],
      Resource: arnSub('events', 'event-bus/${eventBusName}', 'eventBusName', b),
    }),
  },
}

function isIntrinsic(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::') === true)
}

/** Managed policy ARNs and inline policies from a function's Policies. */
function policies(fnId: string, given: unknown, line: number | undefined) {
  const managedArns: unknown[] = []
  const inline: unknown[] = []
  const items = given === undefined ? [] : Array.isArray(given) ? given : [given]
  items.forEach((item: unknown, i) => {
    const policyName = `${fnId}RolePolicy${String(i)}`
    if (typeof item === 'string') {
      managedArns.push(item.startsWith('arn:') ? item : managed(item))
    } else if (isRecord(item) && isIntrinsic(item)) {
      managedArns.push(item)
    } else if (isRecord(item) && item.Statement !== undefined) {
      inline.push({ PolicyName: policyName, PolicyDocument: item })
    } else if (isRecord(item) && Object.keys(item).length === 1) {
      const [name, args] = Object.entries(item)[0]!
      const template = own(POLICY_TEMPLATES, name)
      if (template === undefined) {
        throw new TemplateError(
          `${fnId}: policy template ${name} is not supported; the supported policy templates are ${Object.keys(POLICY_TEMPLATES).join(', ')}`,
          line,
        )
      }
      const value = isRecord(args) ? args[template.parameter] : undefined
      if (value === undefined)
        throw new TemplateError(
          `${fnId}: policy template ${name} needs ${template.parameter}`,
          line,
        )
      inline.push({
        PolicyName: policyName,
        PolicyDocument: { Statement: [template.statement(value)] },
      })
    } else {
      throw new TemplateError(
        `${fnId}: each of Policies must be a managed policy name or ARN, a policy document or a policy template`,
        line,
      )
    }
  })
  return { managedArns, inline }
}

export type RoleInput = {
  fnId: string
  props: Record<string, unknown>
  tags: unknown[]
  pollsSqs: boolean
  line: number | undefined
}

/** The properties of the generated `<Function>Role`. */
export function functionRole({
  fnId,
  props,
  tags,
  pollsSqs,
  line,
}: RoleInput): Record<string, unknown> {
  const { managedArns, inline } = policies(fnId, props.Policies, line)
  return compact({
    AssumeRolePolicyDocument:
      props.AssumeRolePolicyDocument ?? assumeRolePolicy('lambda.amazonaws.com'),
    ManagedPolicyArns: [
      managed('service-role/AWSLambdaBasicExecutionRole'),
      ...(pollsSqs ? [managed('service-role/AWSLambdaSQSQueueExecutionRole')] : []),
      ...managedArns,
    ],
    Policies: inline.length > 0 ? inline : undefined,
    Tags: tags,
    PermissionsBoundary: props.PermissionsBoundary,
    Path: props.RolePath,
  })
}
