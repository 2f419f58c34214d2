/**
 * Lambda's asynchronous retries with the real runtime, on the manual clock of a `junction serve`
 * process: a function that always throws, invoked with `InvocationType: Event` (the JS SDK),
 * runs once at once, again one minute later and a last time two minutes after that (Lambda's
 * default of two retries), and only then does its OnFailure queue get Lambda's invocation record.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda'
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, REGION } from './scenario.js'

let server: ServerProcess
let lambda: LambdaClient
let sqs: SQSClient
let failures: string

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function clock(advance: string): Promise<void> {
  const r = await fetch(`${server.url}/junction/clock`, {
    method: 'POST',
    body: JSON.stringify({ advance }),
  })
  assert.equal(r.status, 200, await r.text())
}

/** How many times the function has started (its START lines). */
async function starts(): Promise<number> {
  // Unsigned requests are the default account's; this names the function's (auth is off).
  const r = await fetch(`${server.url}/2015-03-31/functions/always-fails/logs`, {
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20261204/${REGION}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
    },
  })
  assert.equal(r.status, 200)
  return (await r.text()).split('\n').filter((l) => l.startsWith('START RequestId:')).length
}

/** Waits (real time) until the function has started `n` times; then checks it stays at `n`. */
async function startedTimes(n: number): Promise<void> {
  const end = Date.now() + 15_000
  while ((await starts()) < n && Date.now() < end) await sleep(50)
  await sleep(300)
  assert.equal(await starts(), n)
}

async function receive(): Promise<Message[]> {
  const r = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: failures, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  )
  return r.Messages ?? []
}

before(async () => {
  server = await startServerProcess({ args: ['--clock', 'manual'] })
  const config = {
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'anything' },
  }
  lambda = new LambdaClient(config)
  sqs = new SQSClient(config)
  failures = (await sqs.send(new CreateQueueCommand({ QueueName: 'failures' }))).QueueUrl!
  const dir = mkdtempSync(join(tmpdir(), 'junction-lambda-retries-'))
  writeFileSync(
    join(dir, 'index.mjs'),
    'export const handler = async () => { throw new TypeError("always") }\n',
  )
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'fn.zip', 'index.mjs'], { cwd: dir })
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'always-fails',
      Runtime: 'nodejs20.x',
      Role: `arn:aws:iam::${ACCOUNT}:role/any`,
      Handler: 'index.handler',
      Code: { ZipFile: readFileSync(join(dir, 'fn.zip')) },
    }),
  )
  await lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'always-fails',
      DestinationConfig: {
        OnFailure: { Destination: `arn:aws:sqs:${REGION}:${ACCOUNT}:failures` },
      },
    }),
  )
})
after(async () => {
  lambda.destroy()
  sqs.destroy()
  assert.equal(await server.stop(), 0, server.output())
})

test('an asynchronous invocation that fails is retried after 1 and 2 minutes, then goes to OnFailure', async () => {
  const invoked = await lambda.send(
    new InvokeCommand({
      FunctionName: 'always-fails',
      InvocationType: 'Event',
      Payload: Buffer.from('{"order":"o-1"}'),
    }),
  )
  assert.equal(invoked.StatusCode, 202)
  await startedTimes(1)

  await clock('59s')
  await startedTimes(1)
  await clock('2s')
  await startedTimes(2)
  assert.deepEqual(await receive(), [])

  await clock('118s')
  await startedTimes(2)
  await clock('3s')
  await startedTimes(3)

  const end = Date.now() + 10_000
  let records = await receive()
  while (records.length === 0 && Date.now() < end) {
    await sleep(100)
    records = await receive()
  }
  assert.equal(records.length, 1)
  const record = JSON.parse(records[0]!.Body!) as {
    requestContext: { condition: string; approximateInvokeCount: number }
    requestPayload: unknown
    responseContext: { functionError: string }
    responsePayload: { errorType: string; errorMessage: string }
  }
  assert.equal(record.requestContext.condition, 'RetriesExhausted')
  assert.equal(record.requestContext.approximateInvokeCount, 3)
  assert.deepEqual(record.requestPayload, { order: 'o-1' })
  assert.equal(record.responseContext.functionError, 'Unhandled')
  assert.equal(record.responsePayload.errorType, 'TypeError')
  assert.equal(record.responsePayload.errorMessage, 'always')
})
