/**
 * A bounded fuzz of the front door (fast-check, a fixed seed so a failure repeats): PutEvents,
 * PutRule, PutTargets, TestEventPattern, SendMessage and ReceiveMessage bodies, well-formed and
 * not, against a server on a real SQLite store. Every answer is a 2xx or a 4xx with an error code
 * (never a 5xx), a refused request changes nothing stored, and the server stays up.
 */
import fc from 'fast-check'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import { tempDir } from '../helpers/server.js'

let running: RunningServer
let dataDir: string
let queueUrl: string

before(async () => {
  dataDir = tempDir('junction-fuzz-')
  running = await startServer({ ...DEFAULTS, port: 0, dataDir, logLevel: 'silent' })
  await call('AWSEvents.PutRule', { Name: 'r', EventPattern: '{"source":["a"]}' })
  const q = (await (await call('AmazonSQS.CreateQueue', { QueueName: 'fuzz' })).json()) as {
    QueueUrl: string
  }
  queueUrl = q.QueueUrl
})
after(async () => {
  await running.close()
  rmSync(dataDir, { recursive: true, force: true })
})

function call(target: string, body: unknown, raw = false): Promise<Response> {
  const sqs = target.startsWith('AmazonSQS.')
  return fetch(running.url, {
    method: 'POST',
    headers: {
      'content-type': sqs ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
      'x-amz-target': target,
    },
    body: raw ? (body as string) : JSON.stringify(body),
  })
}

/** Everything stored that a refused request must leave alone. */
async function stored(): Promise<string> {
  const config = await running.bus.store.config.load()
  const pending = await running.bus.store.events.pendingCount()
  return JSON.stringify({ config, pending })
}

/** Any string, and strings that look like what the fields hold. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    'a',
    'default',
    '{}',
    '{"a":1}',
    '[',
    'aws.events',
    'rate(1 minute)',
    '\u0000',
  ),
  fc.json({ maxDepth: 3 }),
)
const anything = fc.oneof(text, fc.jsonValue({ maxDepth: 3 }))
const field = (names: string[]) =>
  fc.dictionary(fc.constantFrom(...names), anything, { maxKeys: names.length })

const bodies: Record<string, fc.Arbitrary<unknown>> = {
  'AWSEvents.PutEvents': fc.oneof(
    fc.record({
      Entries: fc.array(
        field(['Source', 'DetailType', 'Detail', 'EventBusName', 'Time', 'Resources']),
        {
          maxLength: 12,
        },
      ),
    }),
    anything,
  ),
  'AWSEvents.PutRule': fc.oneof(
    field(['Name', 'EventPattern', 'ScheduleExpression', 'State', 'EventBusName', 'Description']),
    anything,
  ),
  'AWSEvents.PutTargets': fc.oneof(
    fc.record({
      Rule: fc.oneof(fc.constant('r'), text),
      Targets: fc.array(
        field(['Id', 'Arn', 'Input', 'InputPath', 'InputTransformer', 'RetryPolicy']),
        {
          maxLength: 6,
        },
      ),
    }),
    anything,
  ),
  'AWSEvents.TestEventPattern': fc.oneof(field(['EventPattern', 'Event']), anything),
  'AmazonSQS.SendMessage': fc.oneof(
    fc.record({
      QueueUrl: fc.oneof(fc.constant('QUEUE'), text),
      MessageBody: anything,
      DelaySeconds: anything,
      MessageAttributes: anything,
    }),
    anything,
  ),
  'AmazonSQS.ReceiveMessage': fc.oneof(
    fc.record({
      QueueUrl: fc.oneof(fc.constant('QUEUE'), text),
      MaxNumberOfMessages: anything,
      VisibilityTimeout: anything,
      WaitTimeSeconds: fc.constantFrom(0, -1, 21, 'x'),
    }),
    anything,
  ),
}

describe('fuzz of the front door', () => {
  for (const [target, arbitrary] of Object.entries(bodies)) {
    test(`${target}: no 5xx, refusals change nothing stored`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            arbitrary,
            fc.string({ maxLength: 30 }).map((s) => ({ raw: s })),
          ),
          async (body) => {
            const before = await stored()
            const isRaw = body !== null && typeof body === 'object' && 'raw' in body
            const payload = isRaw
              ? (body as { raw: string }).raw
              : (JSON.parse(
                  JSON.stringify(body ?? null).replaceAll('"QUEUE"', JSON.stringify(queueUrl)),
                ) as unknown)
            const res = await call(target, payload, isRaw)
            const answer = await res.text()
            assert.ok(res.status < 500, `${String(res.status)} ${answer}`)
            if (res.status >= 400) {
              assert.match(answer, /"__type":"[^"]+"/)
              assert.equal(await stored(), before, `a refused ${target} changed the store`)
            }
          },
        ),
        { numRuns: 300, seed: 20261203 },
      )
      assert.equal((await fetch(`${running.url}/health`)).status, 200)
    })
  }
})
