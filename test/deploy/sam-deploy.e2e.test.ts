/**
 * A SAM application deployed with `junction deploy` as a user runs it (the real CLI against a
 * `junction serve` process), then driven through its events: the function's code is a local
 * directory (`CodeUri`), its `EventBridgeRule` event invokes it for a matching event, its `SQS`
 * event for a message, its `ScheduleV2` event is a Scheduler schedule targeting it; editing
 * the handler changes the next answer without a redeploy; a redeploy without one event removes
 * that event's rule; `--delete` removes everything.
 */
import {
  EventBridgeClient,
  DescribeRuleCommand,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge'
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler'
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const credentials = { accessKeyId: ACCOUNT, secretAccessKey: 'unused' }

let server: ServerProcess
let app: string
let events: EventBridgeClient
let sqs: SQSClient
let lambda: LambdaClient
let scheduler: SchedulerClient
let resultsUrl: string

type Run = { code: number; stdout: string; stderr: string }

function junction(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args],
      {
        cwd: root,
        timeout: 120_000,
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: server.url,
          AWS_ACCESS_KEY_ID: ACCOUNT,
          AWS_SECRET_ACCESS_KEY: 'unused',
          AWS_REGION: REGION,
        },
      },
      (err, stdout, stderr) => {
        done({ code: err ? Number(err.code) : 0, stdout, stderr })
      },
    )
  })
}

const template = (withOrders: boolean) => `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs20.x
    Timeout: 30
Resources:
  Results:
    Type: AWS::SQS::Queue
  Inbox:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./src
      Handler: index.handler
      Environment:
        Variables:
          RESULTS_URL: !Ref Results
      Events:
${
  withOrders
    ? `        Orders:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [app.orders]
`
    : ''
}        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
            BatchSize: 1
        Tick:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
            Input: '{"tick":true}'
Outputs:
  WorkerArn:
    Value: !GetAtt Worker.Arn
  ResultsUrl:
    Value: !Ref Results
`

/** The handler: tells the results queue which version of it ran and on what. */
const handler = (
  version: number,
) => `import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs'
const sqs = new SQSClient({})
export const handler = async (event) => {
  const kind = event.Records ? 'sqs:' + event.Records[0].body : event.tick ? 'tick' : event['detail-type']
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.RESULTS_URL,
    MessageBody: JSON.stringify({ version: ${String(version)}, kind }) }))
  return 'ok'
}
`

type Result = { version: number; kind: string }
/** Results read from the queue and not yet looked for. */
const unclaimed: Result[] = []

/** The first result the function sent that `wanted` accepts, waiting up to 30 s. */
async function result(wanted: (r: Result) => boolean): Promise<Result> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const at = unclaimed.findIndex(wanted)
    if (at >= 0) return unclaimed.splice(at, 1)[0]!
    if (Date.now() > deadline)
      throw new Error(
        `no such result (got ${JSON.stringify(unclaimed)}):\n${server.output().slice(-3000)}`,
      )
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: resultsUrl,
        WaitTimeSeconds: 2,
        MaxNumberOfMessages: 10,
      }),
    )
    for (const m of r.Messages ?? []) {
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: resultsUrl, ReceiptHandle: m.ReceiptHandle }),
      )
      unclaimed.push(JSON.parse(m.Body!) as Result)
    }
  }
}

before(async () => {
  server = await startServerProcess()
  const config = { endpoint: server.url, region: REGION, credentials }
  events = new EventBridgeClient(config)
  sqs = new SQSClient(config)
  lambda = new LambdaClient(config)
  scheduler = new SchedulerClient(config)
  app = tempDir('junction-sam-')
  mkdirSync(join(app, 'src'))
  writeFileSync(join(app, 'src', 'index.mjs'), handler(1))
  writeFileSync(join(app, 'template.yaml'), template(true))
})

after(async () => {
  for (const c of [events, sqs, lambda, scheduler]) c.destroy()
  await server.stop()
})

describe('junction deploy with a SAM template', () => {
  test('deploys the function, its queues, rule, mapping and schedule, and prints the outputs', async () => {
    const r = await junction('deploy', join(app, 'template.yaml'), '--stack-name', 'shop')
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.match(r.stdout, /CREATE_COMPLETE AWS::Lambda::Function Worker/)
    assert.match(r.stdout, /CREATE_COMPLETE AWS::Events::Rule WorkerOrders/)
    assert.match(r.stdout, /CREATE_COMPLETE AWS::Lambda::EventSourceMapping WorkerWork/)
    assert.match(r.stdout, /CREATE_COMPLETE AWS::Scheduler::Schedule WorkerTick/)
    assert.match(
      r.stdout,
      /WorkerArn = arn:aws:lambda:us-east-1:111111111111:function:shop-Worker-/,
    )
    resultsUrl = /ResultsUrl = (\S+)/.exec(r.stdout)![1]!
    const name = (
      await sqs.send(new GetQueueUrlCommand({ QueueName: resultsUrl.split('/').pop() }))
    ).QueueUrl
    assert.equal(name, resultsUrl)
  })

  test('an event matching the rule and a message on the queue each invoke the function', async () => {
    await events.send(
      new PutEventsCommand({
        Entries: [{ Source: 'app.orders', DetailType: 'Order Placed', Detail: '{"id":1}' }],
      }),
    )
    assert.deepEqual(await result((r) => r.kind === 'Order Placed'), {
      version: 1,
      kind: 'Order Placed',
    })
    const inbox = (await sqs.send(new GetQueueUrlCommand({ QueueName: await inboxName() })))
      .QueueUrl
    await sqs.send(new SendMessageCommand({ QueueUrl: inbox, MessageBody: 'job-7' }))
    assert.deepEqual(await result((r) => r.kind.startsWith('sqs:')), {
      version: 1,
      kind: 'sqs:job-7',
    })
  })

  test('the ScheduleV2 event is a schedule whose target is the function, with its input', async () => {
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: await functionName() }))
    const schedules = await stackResources()
    const tick = schedules.find((s) => s.logicalId === 'WorkerTick')!
    const s = await scheduler.send(new GetScheduleCommand({ Name: tick.physicalId }))
    assert.equal(s.ScheduleExpression, 'rate(1 hour)')
    assert.equal(s.Target?.Arn, fn.Configuration?.FunctionArn)
    assert.equal(s.Target?.Input, '{"tick":true}')
    // A rate schedule without a StartDate invokes at once, as Scheduler documents.
    assert.deepEqual(await result((r) => r.kind === 'tick'), { version: 1, kind: 'tick' })
  })

  test('editing the handler changes the next answer without a redeploy', async () => {
    writeFileSync(join(app, 'src', 'index.mjs'), handler(2))
    // The change is noticed after a short debounce; events sent before may still meet version 1.
    const deadline = Date.now() + 20_000
    let seen = 0
    while (Date.now() < deadline && seen !== 2) {
      await events.send(
        new PutEventsCommand({
          Entries: [{ Source: 'app.orders', DetailType: 'Order Placed', Detail: '{"id":2}' }],
        }),
      )
      seen = (await result((r) => r.kind === 'Order Placed')).version
    }
    assert.equal(seen, 2)
  })

  test('a redeploy without the Orders event deletes its rule and permission', async () => {
    const ruleName = (await stackResources()).find(
      (r) => r.logicalId === 'WorkerOrders',
    )!.physicalId
    writeFileSync(join(app, 'template.yaml'), template(false))
    const r = await junction('deploy', join(app, 'template.yaml'), '--stack-name', 'shop')
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.match(r.stdout, /DELETE_COMPLETE AWS::Events::Rule WorkerOrders/)
    assert.match(r.stdout, /DELETE_COMPLETE AWS::Lambda::Permission WorkerOrdersPermission/)
    await assert.rejects(events.send(new DescribeRuleCommand({ Name: ruleName })), {
      name: 'ResourceNotFoundException',
    })
  })

  test('--delete removes the stack and everything in it', async () => {
    const fn = await functionName()
    const r = await junction(
      'deploy',
      join(app, 'template.yaml'),
      '--stack-name',
      'shop',
      '--delete',
    )
    assert.equal(r.code, 0, r.stderr + r.stdout)
    await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: fn })), {
      name: 'ResourceNotFoundException',
    })
    await assert.rejects(
      sqs.send(new GetQueueUrlCommand({ QueueName: resultsUrl.split('/').pop() })),
    )
    const list = await junction('stacks')
    assert.doesNotMatch(list.stdout, /\bshop\b/)
  })
})

type Resource = { logicalId: string; physicalId: string }

async function stackResources(): Promise<Resource[]> {
  const r = await junction('stacks', '--output', 'json')
  assert.equal(r.code, 0, r.stderr)
  const { stacks } = JSON.parse(r.stdout) as { stacks: { name: string; resources: Resource[] }[] }
  const shop = stacks.find((s) => s.name === 'shop')
  assert.ok(shop, r.stdout)
  return shop.resources
}

async function functionName(): Promise<string> {
  return (await stackResources()).find((r) => r.logicalId === 'Worker')!.physicalId
}

async function inboxName(): Promise<string> {
  return (await stackResources())
    .find((r) => r.logicalId === 'Inbox')!
    .physicalId.split('/')
    .pop()!
}
