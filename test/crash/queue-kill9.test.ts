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

async function start(dataDir: string, args: string[] = []): Promise<ServerProcess> {
  const s = await startServerProcess({ dataDir, args })
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
  const deadline = Date.now() + 60_000
  for (;;) {
    const r = await call<{ Messages?: Received[] }>(url, 'AmazonSQS.ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
    })
    if (!r.Messages) {
      // An empty receive does not mean an empty queue: messages in flight at the crash become
      // visible when their timeout runs out (counted at most a second late when only stored).
      const { Attributes: a } = await call<{ Attributes: Record<string, string> }>(
        url,
        'AmazonSQS.GetQueueAttributes',
        {
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        },
      )
      const left =
        Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible)
      if (left === 0 || Date.now() > deadline) return out
      continue
    }
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

test('kill -9 mid-drain of a backlog larger than the window: nothing acknowledged is lost or revived', async () => {
  const dataDir = tempDir('junction-queue-crash-')
  dirs.push(dataDir)
  // A window of 50 messages: nearly all of the backlog is only in the store.
  const args = ['--queue-window', '50']
  let server = await start(dataDir, args)
  const { QueueUrl: queueUrl } = await call<{ QueueUrl: string }>(
    server.url,
    'AmazonSQS.CreateQueue',
    { QueueName: 'backlog', Attributes: { VisibilityTimeout: '1' } },
  )
  const acked = new Set<string>()
  const send = async (from: number) => {
    const r = await call<{ Successful: { MessageId: string }[] }>(
      server.url,
      'AmazonSQS.SendMessageBatch',
      {
        QueueUrl: queueUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({
          Id: `e${String(i)}`,
          MessageBody: `b${String(from + i)}`,
        })),
      },
    )
    for (const s of r.Successful) acked.add(s.MessageId)
  }
  for (let n = 0; n < 6000; n += 40)
    await Promise.all([send(n), send(n + 10), send(n + 20), send(n + 30)])

  // Receivers drain (deleting what they get) while a sender keeps adding; then kill -9.
  const deleted = new Set<string>()
  const unanswered = new Set<string>()
  let running = true
  const receiver = async () => {
    while (running) {
      try {
        const r = await call<{ Messages?: Received[] }>(server.url, 'AmazonSQS.ReceiveMessage', {
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        })
        if (!r.Messages) continue
        // Some are left in flight, to come back after the restart.
        const done = r.Messages.filter((_, i) => i % 5 !== 4)
        // A delete unanswered at the crash may have been committed or not: either is right.
        for (const m of done) unanswered.add(m.MessageId)
        await call(server.url, 'AmazonSQS.DeleteMessageBatch', {
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        })
        for (const m of done) {
          unanswered.delete(m.MessageId)
          deleted.add(m.MessageId)
        }
      } catch {
        return
      }
    }
  }
  let n = 100_000
  const sender = async () => {
    while (running) {
      try {
        await send((n += 10))
      } catch {
        return
      }
    }
  }
  const load = Promise.all([receiver(), receiver(), receiver(), receiver(), sender()])
  await sleep(1200)
  await server.kill()
  running = false
  await load
  assert.ok(deleted.size > 200, `only ${String(deleted.size)} messages were deleted`)

  server = await start(dataDir, args)
  const got = new Set((await drain(server.url, queueUrl)).map((m) => m.MessageId))
  const expected = [...acked].filter((id) => !deleted.has(id) && !unanswered.has(id))
  const missing = expected.filter((id) => !got.has(id))
  assert.deepEqual(missing, [], `${String(missing.length)} of ${String(expected.length)} lost`)
  const revived = [...deleted].filter((id) => got.has(id))
  assert.deepEqual(revived, [], `${String(revived.length)} deleted messages came back`)
  console.log(
    `backlog crash: ${String(acked.size)} acknowledged, ${String(deleted.size)} deleted before ` +
      `the crash, ${String(unanswered.size)} in deletes it cut off, ${String(got.size)} received after it, 0 lost`,
  )
  // At most one batch per receiver was cut off.
  assert.ok(unanswered.size <= 40, `${String(unanswered.size)} messages in unanswered deletes`)
  assert.equal(await server.stop(), 0)
})
