/**
 * Functions in the event flow, end to end with the real runtime, against a `junction serve`
 * process driven by the AWS SDK for JavaScript v3:
 * - validate and republish inside one account: a rule hands raw widget events to a Node.js
 *   function (asynchronously, allowed by its resource policy); the function calls PutEvents with
 *   the SDK the runtime provides (not in its zip) and its event reaches a queue through a second
 *   rule; an invalid widget makes the function throw, and after Lambda's retries (none here) the
 *   event lands in the function's OnFailure queue as Lambda's invocation record;
 * - a rule whose target function never allowed it: the event goes to the rule target's
 *   dead-letter queue with EventBridge's error attributes;
 * - an event source mapping from a queue to a Python function that reports partial batch
 *   failures and forwards the good messages with boto3: the good ones are deleted, the bad one is
 *   received again and redriven to the queue's dead-letter queue.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  LambdaClient,
  PutFunctionEventInvokeConfigCommand,
  type Runtime,
} from '@aws-sdk/client-lambda'
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, REGION } from './scenario.js'

const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-role`
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`
const work = mkdtempSync(join(tmpdir(), 'junction-lambda-flow-'))

function zipOf(name: string, files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(work, `${name}-`))
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  const zip = join(work, `${name}.zip`)
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', zip, ...Object.keys(files)], {
    cwd: dir,
  })
  return readFileSync(zip)
}

/** Valid widgets (a positive size) are republished; others fail the invocation. */
const VALIDATOR = [
  "import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'",
  'const events = new EventBridgeClient({})',
  'export const handler = async (event) => {',
  '  if (!(event.detail.size > 0)) throw new Error(`invalid widget ${event.detail.id}`)',
  '  const out = await events.send(new PutEventsCommand({ Entries: [{',
  "    Source: 'widgets.validator', DetailType: 'WidgetValidated',",
  '    Detail: JSON.stringify({ ...event.detail, validatedBy: process.env.AWS_LAMBDA_FUNCTION_NAME }),',
  '  }] }))',
  '  if (out.FailedEntryCount) throw new Error(JSON.stringify(out.Entries))',
  '  return { ok: true }',
  '}',
  '',
].join('\n')

/** Forwards each good record to the `forwarded` queue with boto3; reports the bad ones. */
const CONSUMER = [
  'import boto3',
  'sqs = boto3.client("sqs")',
  'def handler(event, context):',
  '    url = sqs.get_queue_url(QueueName="forwarded")["QueueUrl"]',
  '    failures = []',
  '    for r in event["Records"]:',
  '        if r["body"].startswith("bad"):',
  '            failures.append({"itemIdentifier": r["messageId"]})',
  '        else:',
  '            sqs.send_message(QueueUrl=url, MessageBody=r["body"])',
  '    return {"batchItemFailures": failures}',
  '',
].join('\n')

const attribute = (m: Message, name: string): string | undefined =>
  m.MessageAttributes?.[name]?.StringValue

let server: ServerProcess
let events: EventBridgeClient
let lambda: LambdaClient
let sqs: SQSClient
const urls: Record<string, string> = {}

async function receiveAll(queue: string, want: number, timeoutMs = 20_000): Promise<Message[]> {
  const got: Message[] = []
  const end = Date.now() + timeoutMs
  while (got.length < want && Date.now() < end) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls[queue],
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    )
    got.push(...(r.Messages ?? []))
  }
  return got
}

before(async () => {
  server = await startServerProcess()
  const config = {
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'anything' },
  }
  events = new EventBridgeClient(config)
  lambda = new LambdaClient(config)
  sqs = new SQSClient(config)
  for (const name of ['validated', 'validator-failures', 'rule-dlq', 'forwarded', 'orders-dlq']) {
    urls[name] = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!
  }
  urls.orders = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'orders',
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: queueArn('orders-dlq'),
            maxReceiveCount: 2,
          }),
        },
      }),
    )
  ).QueueUrl!
})
after(async () => {
  events.destroy()
  lambda.destroy()
  sqs.destroy()
  assert.equal(await server.stop(), 0, server.output())
})

describe('functions in the event flow', () => {
  test('validate and republish: a rule invokes the function, whose PutEvents reaches a queue; a failure reaches OnFailure', async () => {
    const fn = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'validator',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zipOf('validator', { 'index.mjs': VALIDATOR }) },
      }),
    )
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'validator',
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: queueArn('validator-failures') } },
      }),
    )
    const raw = await events.send(
      new PutRuleCommand({
        Name: 'raw-widgets',
        EventPattern: JSON.stringify({ source: ['widgets.factory'] }),
      }),
    )
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'validator',
        StatementId: 'raw-widgets',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: raw.RuleArn,
      }),
    )
    await events.send(
      new PutTargetsCommand({
        Rule: 'raw-widgets',
        Targets: [{ Id: 'validator', Arn: fn.FunctionArn }],
      }),
    )
    await events.send(
      new PutRuleCommand({
        Name: 'validated-widgets',
        EventPattern: JSON.stringify({ source: ['widgets.validator'] }),
      }),
    )
    await events.send(
      new PutTargetsCommand({
        Rule: 'validated-widgets',
        Targets: [{ Id: 'q', Arn: queueArn('validated') }],
      }),
    )

    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'widgets.factory', DetailType: 'Widget', Detail: '{"id":"w1","size":3}' },
          { Source: 'widgets.factory', DetailType: 'Widget', Detail: '{"id":"w2","size":0}' },
        ],
      }),
    )
    assert.equal(put.FailedEntryCount, 0)

    const [validated] = await receiveAll('validated', 1)
    assert.ok(validated, 'the republished event reached the queue')
    const envelope = JSON.parse(validated.Body!) as Record<string, unknown>
    assert.equal(envelope.source, 'widgets.validator')
    assert.equal(envelope['detail-type'], 'WidgetValidated')
    assert.equal(envelope.account, ACCOUNT)
    assert.deepEqual(envelope.detail, { id: 'w1', size: 3, validatedBy: 'validator' })

    const [failure] = await receiveAll('validator-failures', 1)
    assert.ok(failure, 'the failed invocation reached the OnFailure queue')
    const record = JSON.parse(failure.Body!) as {
      requestContext: { functionArn: string; condition: string; approximateInvokeCount: number }
      requestPayload: { detail: { id: string } }
      responseContext: { functionError: string }
      responsePayload: { errorMessage: string }
    }
    assert.equal(record.requestContext.functionArn, `${fn.FunctionArn!}:$LATEST`)
    assert.equal(record.requestContext.condition, 'RetriesExhausted')
    assert.equal(record.requestContext.approximateInvokeCount, 1)
    assert.equal(record.requestPayload.detail.id, 'w2')
    assert.equal(record.responseContext.functionError, 'Unhandled')
    assert.equal(record.responsePayload.errorMessage, 'invalid widget w2')
  })

  test('a rule the function never allowed: the event goes to the target dead-letter queue', async () => {
    const fn = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'private',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zipOf('private', { 'index.mjs': VALIDATOR }) },
      }),
    )
    await events.send(
      new PutRuleCommand({
        Name: 'not-allowed',
        EventPattern: JSON.stringify({ source: ['widgets.private'] }),
      }),
    )
    await events.send(
      new PutTargetsCommand({
        Rule: 'not-allowed',
        Targets: [
          {
            Id: 'private',
            Arn: fn.FunctionArn,
            DeadLetterConfig: { Arn: queueArn('rule-dlq') },
          },
        ],
      }),
    )
    await events.send(
      new PutEventsCommand({
        Entries: [{ Source: 'widgets.private', DetailType: 'Widget', Detail: '{"id":"p1"}' }],
      }),
    )
    const [letter] = await receiveAll('rule-dlq', 1)
    assert.ok(letter, 'dead-lettered')
    assert.equal(attribute(letter, 'ERROR_CODE'), 'NO_PERMISSIONS')
    assert.equal(attribute(letter, 'TARGET_ARN'), fn.FunctionArn)
    assert.deepEqual((JSON.parse(letter.Body!) as { detail: unknown }).detail, { id: 'p1' })
  })

  test('an event source mapping with partial batch failures: good messages processed and deleted, the bad one redriven', async () => {
    const python = `python3.${/Python 3\.(\d+)/.exec(execFileSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' }))![1]!}`
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'order-consumer',
        Runtime: python as Runtime,
        Role: ROLE,
        Handler: 'app.handler',
        Code: { ZipFile: zipOf('consumer', { 'app.py': CONSUMER }) },
      }),
    )
    const mapping = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'order-consumer',
        EventSourceArn: queueArn('orders'),
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    )
    assert.equal(mapping.BatchSize, 10)
    for (const body of ['good-1', 'bad-1', 'good-2'])
      await sqs.send(new SendMessageCommand({ QueueUrl: urls.orders, MessageBody: body }))
    const forwarded = await receiveAll('forwarded', 2)
    assert.deepEqual(forwarded.map((m) => m.Body).sort(), ['good-1', 'good-2'])
    const [dead] = await receiveAll('orders-dlq', 1, 30_000)
    assert.equal(dead?.Body, 'bad-1')
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: urls.orders,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
    assert.equal(left.Attributes?.ApproximateNumberOfMessages, '0')
    assert.equal(left.Attributes.ApproximateNumberOfMessagesNotVisible, '0')
  })
})
