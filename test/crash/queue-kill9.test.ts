/**
 * "Nothing lost" for queues: every message SendMessage acknowledged, and every event a rule
 * delivered into a queue after PutEvents acknowledged it, is there after kill -9 and a restart;
 * a message received but not deleted before the crash comes back once its visibility timeout
 * has run out. Messages may come back more than once (at least once); that is counted, not failed.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

const ACCOUNT = '111111111111'
const AUTH = `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20261129/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x`

const servers: ServerProcess[] = []
const dirs: string[] = []

after(async () => {
  for (const s of servers)
    if (s.child.exitCode === null && s.child.signalCode === null) await s.kill()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function start(dataDir: string): Promise<ServerProcess> {
  const s = await startServerProcess({ dataDir })
  servers.push(s)
  return s
}

async function call<T>(url: string, target: string, body: Record<string, unknown>): Promise<T> {
  const json10 = target.startsWith('AmazonSQS.')
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: {
      'content-type': json10 ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
      'x-amz-target': target,
      authorization: AUTH.replace('/sqs/', json10 ? '/sqs/' : '/events/'),
    },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${target}: HTTP ${String(res.status)} ${text}`)
  return JSON.parse(text) as T
}

type Received = { MessageId: string; ReceiptHandle: string; Body: string }

/** Receives until the queue has been empty for a whole long poll; every message, deleted. */
async function drain(url: string, queueUrl: string): Promise<Received[]> {
  const out: Received[] = []
  for (;;) {
    const r = await call<{ Messages?: Received[] }>(url, 'AmazonSQS.ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
    })
    if (!r.Messages) return out
    out.push(...r.Messages)
    await call(url, 'AmazonSQS.DeleteMessageBatch', {
      QueueUrl: queueUrl,
      Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    })
  }
}

test('kill -9 under load: every acknowledged message and delivered event is there after restart', async () => {
  const dataDir = tempDir('junction-queue-crash-')
  dirs.push(dataDir)
  let server = await start(dataDir)
  const { QueueUrl: queueUrl } = await call<{ QueueUrl: string }>(
    server.url,
    'AmazonSQS.CreateQueue',
    { QueueName: 'crash' },
  )
  const { QueueUrl: heldUrl } = await call<{ QueueUrl: string }>(
    server.url,
    'AmazonSQS.CreateQueue',
    { QueueName: 'held', Attributes: { VisibilityTimeout: '2' } },
  )
  const { QueueUrl: eventsUrl } = await call<{ QueueUrl: string }>(
    server.url,
    'AmazonSQS.CreateQueue',
    { QueueName: 'events' },
  )
  await call(server.url, 'AWSEvents.PutRule', {
    Name: 'to-queue',
    EventPattern: JSON.stringify({ source: ['crash.test'] }),
  })
  await call(server.url, 'AWSEvents.PutTargets', {
    Rule: 'to-queue',
    Targets: [{ Id: 'q', Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:events` }],
  })

  // A message received (not deleted) before the crash must come back after its timeout.
  await call(server.url, 'AmazonSQS.SendMessage', { QueueUrl: heldUrl, MessageBody: 'held' })
  const held = await call<{ Messages?: Received[] }>(server.url, 'AmazonSQS.ReceiveMessage', {
    QueueUrl: heldUrl,
  })
  assert.equal(held.Messages?.[0]?.Body, 'held')

  const acked = new Set<string>()
  const ackedEvents = new Set<string>()
  let running = true
  let seq = 0
  const sender = async () => {
    while (running) {
      const n = seq
      seq += 10
      try {
        const r = await call<{ Successful: { MessageId: string }[] }>(
          server.url,
          'AmazonSQS.SendMessageBatch',
          {
            QueueUrl: queueUrl,
            Entries: Array.from({ length: 10 }, (_, i) => ({
              Id: `e${String(i)}`,
              MessageBody: `m${String(n + i)}`,
            })),
          },
        )
        for (const s of r.Successful) acked.add(s.MessageId)
      } catch {
        return // the server died; what it acknowledged is what counts
      }
    }
  }
  const publisher = async () => {
    while (running) {
      try {
        const r = await call<{ Entries: { EventId?: string }[] }>(
          server.url,
          'AWSEvents.PutEvents',
          {
            Entries: Array.from({ length: 5 }, () => ({
              Source: 'crash.test',
              DetailType: 't',
              Detail: '{}',
            })),
          },
        )
        for (const e of r.Entries) if (e.EventId) ackedEvents.add(e.EventId)
      } catch {
        return
      }
    }
  }
  const load = Promise.all([sender(), sender(), sender(), sender(), publisher(), publisher()])
  await sleep(1500)
  await server.kill()
  running = false
  await load
  assert.ok(acked.size > 100, `only ${String(acked.size)} messages were acknowledged`)
  assert.ok(ackedEvents.size > 20, `only ${String(ackedEvents.size)} events were acknowledged`)

  server = await start(dataDir)
  const messages = await drain(server.url, queueUrl)
  const got = new Set(messages.map((m) => m.MessageId))
  const missing = [...acked].filter((id) => !got.has(id))
  assert.deepEqual(
    missing,
    [],
    `${String(missing.length)} of ${String(acked.size)} acknowledged messages lost`,
  )

  // Events acknowledged before the crash are delivered after it (the job survived, or the message did).
  const deadline = Date.now() + 20_000
  const eventIds = new Set<string>()
  while (Date.now() < deadline) {
    for (const m of await drain(server.url, eventsUrl))
      eventIds.add((JSON.parse(m.Body) as { id: string }).id)
    if ([...ackedEvents].every((id) => eventIds.has(id))) break
  }
  const lostEvents = [...ackedEvents].filter((id) => !eventIds.has(id))
  assert.deepEqual(
    lostEvents,
    [],
    `${String(lostEvents.length)} of ${String(ackedEvents.size)} events lost`,
  )

  const back = await call<{ Messages?: Received[] }>(server.url, 'AmazonSQS.ReceiveMessage', {
    QueueUrl: heldUrl,
    WaitTimeSeconds: 5,
    AttributeNames: ['ApproximateReceiveCount'],
  })
  assert.equal(back.Messages?.[0]?.Body, 'held')
  assert.equal(
    (back.Messages[0] as unknown as { Attributes: Record<string, string> }).Attributes
      .ApproximateReceiveCount,
    '2',
  )
  console.log(
    `queue crash: ${String(acked.size)} messages and ${String(ackedEvents.size)} events acknowledged, ` +
      `${String(messages.length - got.size)} duplicate messages, 0 lost`,
  )
  assert.equal(await server.stop(), 0)
})
