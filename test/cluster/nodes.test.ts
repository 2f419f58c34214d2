/**
 * Distributed mode end to end: `junction serve --store nats` processes sharing a nats-server of
 * our own. Any node answers any call; a rule made on one routes events put on another; every
 * event that got an EventId is delivered at least once when a node is killed under load (its
 * jobs go to the others after the ack wait); while NATS is down the nodes answer 503 (which the
 * SDKs retry) instead of accepting what they cannot store, and they recover by themselves.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ACCOUNT,
  call,
  closeEventLoad,
  configure,
  HttpError,
  report,
  runLoad,
  SOURCE,
  sqs,
  startSink,
} from '../helpers/event-load.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

let nats: NatsServer
const nodes: ServerProcess[] = []
const dirs: string[] = []

before(async () => {
  nats = await startNatsServer()
})

after(async () => {
  const loads = closeEventLoad()
  for (const n of nodes)
    if (n.child.exitCode === null && n.child.signalCode === null) await n.kill()
  await loads
  await nats.stop().catch(() => undefined)
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function node(ackWait = '3s'): Promise<ServerProcess> {
  const dir = tempDir('junction-node-')
  dirs.push(dir)
  const n = await startServerProcess({
    dataDir: dir,
    args: ['--store', 'nats', '--nats-url', nats.url, '--nats-ack-wait', ackWait],
  })
  nodes.push(n)
  return n
}

/** Restarts the shared nats-server between tests so each starts from empty streams. */
async function freshNats(): Promise<void> {
  for (const n of nodes.splice(0))
    if (n.child.exitCode === null && n.child.signalCode === null) await n.stop()
  await nats.stop()
  nats = await startNatsServer()
}

test('two nodes: a rule made on one routes what is put on either; each event delivered once', async (t) => {
  await freshNats()
  const a = await node()
  const b = await node()
  const sink = await startSink()
  await configure(a.url, sink.url)
  // In force on B within a second of A's answer.
  const rules = async () => ((await call(b.url, 'ListRules', {})).Rules as unknown[]).length
  const start = Date.now()
  while ((await rules()) !== 1) {
    assert.ok(Date.now() - start < 5000, 'B never saw the rule A made')
    await sleep(10)
  }
  t.diagnostic(`B saw A's rule after ${String(Date.now() - start)} ms`)

  const load = runLoad([a.url, b.url], 4)
  await sleep(2000)
  await load.stop()
  assert.equal(load.unacked.size, 0, `requests failed: ${JSON.stringify([...load.failures])}`)
  const missing = await sink.waitForDelivered(load.acked.keys(), 30_000)
  assert.deepEqual(missing, [], 'acknowledged events never delivered')
  const twice = [...load.acked.keys()].filter((id) => (sink.counts.get(id) ?? 0) > 1).length
  report(t, 'two nodes', { acknowledged: load.acked.size, deliveredTwice: twice })
  assert.equal(twice, 0, 'with no node failing, no event is delivered twice')
})

test('kill -9 of one node of three under load: every acknowledged event is delivered', async (t) => {
  await freshNats()
  const [a, b, c] = [await node(), await node(), await node()]
  // The sink holds each delivery a while, so that the killed node dies holding jobs.
  const sink = await startSink({ delayMs: 200 })
  await configure(a.url, sink.url)
  await sleep(300)
  const load = runLoad([a.url, b.url, c.url], 6)
  await sleep(1500)
  await b.kill()
  await sleep(1500)
  await load.stop()
  const missing = await sink.waitForDelivered(load.acked.keys(), 60_000)
  const twice = [...load.acked.keys()].filter((id) => (sink.counts.get(id) ?? 0) > 1).length
  report(t, 'kill -9 of one node', {
    acknowledged: load.acked.size,
    requestsWithoutAnswer: load.unacked.size / 10,
    failures: Object.fromEntries(load.failures),
    deliveredTwice: twice,
    missing: missing.length,
  })
  assert.deepEqual(missing, [], 'acknowledged events lost with the node')
})

test('NATS down: the nodes answer 503 and recover by themselves when it returns', async (t) => {
  await freshNats()
  const a = await node()
  const sink = await startSink()
  await configure(a.url, sink.url)
  const put = (seq: number) =>
    call(a.url, 'PutEvents', {
      Entries: [{ Source: SOURCE, DetailType: 'crash', Detail: JSON.stringify({ seq }) }],
    })
  const before = ((await put(1)).Entries as { EventId: string }[])[0]!.EventId

  await nats.stop()
  // Within a few seconds every call is refused with a status the SDKs retry.
  let refused: HttpError | undefined
  const start = Date.now()
  while (!refused) {
    assert.ok(Date.now() - start < 15_000, 'PutEvents kept answering 200 with NATS down')
    try {
      await put(2)
    } catch (e) {
      if (e instanceof HttpError) refused = e
      else throw e
    }
    await sleep(50)
  }
  t.diagnostic(`refused after ${String(Date.now() - start)} ms: ${refused.status} ${refused.body}`)
  assert.ok(refused.status >= 500, `a retryable status, not ${String(refused.status)}`)
  const health = await fetch(`${a.url}/health`)
  assert.equal(health.status, 503)
  // Once the node knows NATS is gone, it refuses at once with ServiceUnavailable.
  await assert.rejects(put(2), (e: unknown) => {
    assert.ok(e instanceof HttpError)
    assert.equal(e.status, 503)
    assert.match(e.body, /"__type":"ServiceUnavailable".*out of reach/)
    return true
  })

  nats = await startNatsServer({ port: nats.port, storeDir: nats.storeDir })
  const back = Date.now()
  let after: string | undefined
  while (!after) {
    assert.ok(Date.now() - back < 30_000, 'the node never recovered')
    try {
      after = ((await put(3)).Entries as { EventId: string }[])[0]!.EventId
    } catch {
      await sleep(100)
    }
  }
  t.diagnostic(`answering again ${String(Date.now() - back)} ms after NATS returned`)
  assert.deepEqual(await sink.waitForDelivered([before, after], 30_000), [])
})

// ── SQS queues across nodes ────────────────────────────────────────────────────────────────────

const QUEUE = 'crash-queue'
const QUEUE_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:${QUEUE}`

/** A queue, and a rule on the default bus sending every load event to it. */
async function configureQueue(url: string): Promise<string> {
  const { QueueUrl } = (await sqs(url, 'CreateQueue', { QueueName: QUEUE })) as {
    QueueUrl: string
  }
  await call(url, 'PutRule', {
    Name: 'queue-rule',
    EventPattern: JSON.stringify({ source: [SOURCE] }),
  })
  const put = await call(url, 'PutTargets', {
    Rule: 'queue-rule',
    Targets: [{ Id: 'queue', Arn: QUEUE_ARN }],
  })
  assert.equal(put.FailedEntryCount, 0)
  return new URL(QueueUrl).pathname
}

/**
 * Receives (and deletes) through the nodes in turn until every id in `wanted` was received or
 * `ms` passed; the event ids received, with how often.
 */
async function drainQueue(
  urls: string[],
  path: string,
  wanted: Iterable<string>,
  ms: number,
): Promise<Map<string, number>> {
  const left = new Set(wanted)
  const received = new Map<string, number>()
  const deadline = Date.now() + ms
  for (let i = 0; left.size > 0 && Date.now() < deadline; i++) {
    const url = urls[i % urls.length]!
    const out = await sqs(url, 'ReceiveMessage', {
      QueueUrl: `${url}${path}`,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 2,
    })
    const messages = (out.Messages ?? []) as { Body: string; ReceiptHandle: string }[]
    for (const m of messages) {
      const id = (JSON.parse(m.Body) as { id: string }).id
      received.set(id, (received.get(id) ?? 0) + 1)
      left.delete(id)
    }
    if (messages.length === 0) continue
    // Deleted through another node than the one that received them.
    const other = urls[(i + 1) % urls.length]!
    const deleted = await sqs(other, 'DeleteMessageBatch', {
      QueueUrl: `${other}${path}`,
      Entries: messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle })),
    })
    assert.deepEqual(deleted.Failed, [])
  }
  return received
}

test('SQS: a queue and a rule made on one node; events put there are received and deleted on another', async () => {
  await freshNats()
  const a = await node()
  const b = await node()
  const path = await configureQueue(a.url)
  // B knows the queue within a second or so.
  const start = Date.now()
  for (;;) {
    try {
      await sqs(b.url, 'GetQueueUrl', { QueueName: QUEUE })
      break
    } catch (e) {
      assert.ok(
        e instanceof HttpError && Date.now() - start < 5000,
        `B never saw the queue: ${String(e)}`,
      )
      await sleep(20)
    }
  }
  const out = await call(a.url, 'PutEvents', {
    Entries: Array.from({ length: 10 }, (_, seq) => ({
      Source: SOURCE,
      DetailType: 'queued',
      Detail: JSON.stringify({ seq }),
    })),
  })
  const ids = (out.Entries as { EventId: string }[]).map((e) => e.EventId)
  const received = await drainQueue([b.url], path, ids, 30_000)
  assert.deepEqual([...received.keys()].sort(), [...ids].sort())
  // Deleted through B: nothing left, visible or in flight.
  const attributes = async () =>
    (
      (await sqs(a.url, 'GetQueueAttributes', {
        QueueUrl: `${a.url}${path}`,
        AttributeNames: ['All'],
      })) as { Attributes: Record<string, string> }
    ).Attributes
  for (let i = 0; ; i++) {
    const now = await attributes()
    if (
      now.ApproximateNumberOfMessages === '0' &&
      now.ApproximateNumberOfMessagesNotVisible === '0'
    )
      break
    assert.ok(i < 100, `messages left: ${JSON.stringify(now)}`)
    await sleep(50)
  }
  // FIFO queues are refused in distributed mode, with the reason.
  await assert.rejects(
    sqs(a.url, 'CreateQueue', { QueueName: 'x.fifo', Attributes: { FifoQueue: 'true' } }),
    (e: unknown) => {
      assert.ok(e instanceof HttpError)
      assert.equal(e.status, 400)
      assert.match(e.body, /InvalidAttributeValue.*distributed mode/)
      return true
    },
  )
})

test('kill -9 of one node of three under load to a queue: every acknowledged event is received', async (t) => {
  await freshNats()
  const [a, b, c] = [await node(), await node(), await node()]
  const path = await configureQueue(a.url)
  await sleep(300)
  const load = runLoad([a.url, b.url, c.url], 6)
  await sleep(1500)
  await b.kill()
  await sleep(1500)
  await load.stop()
  const received = await drainQueue([a.url, c.url], path, load.acked.keys(), 60_000)
  const missing = [...load.acked.keys()].filter((id) => !received.has(id))
  const twice = [...received.values()].filter((n) => n > 1).length
  report(t, 'kill -9 of one node, queue target', {
    acknowledged: load.acked.size,
    requestsWithoutAnswer: load.unacked.size / 10,
    failures: Object.fromEntries(load.failures),
    receivedTwice: twice,
    missing: missing.length,
  })
  assert.ok(load.acked.size > 0, 'no event was acknowledged')
  assert.deepEqual(missing, [], 'acknowledged events never reached the queue')
})

test('SQS: a delivery that fails for good on one node is dead-lettered to a queue another node reads', async () => {
  await freshNats()
  const a = await node()
  const b = await node()
  // The sink refuses every event with a status that is never retried.
  const sink = await startSink({ status: () => 400 })
  await configure(a.url, sink.url)
  const path = await configureQueue(a.url)
  const { Targets } = (await call(a.url, 'ListTargetsByRule', { Rule: 'crash-rule' })) as {
    Targets: Record<string, unknown>[]
  }
  const put = await call(a.url, 'PutTargets', {
    Rule: 'crash-rule',
    Targets: [{ ...Targets[0], DeadLetterConfig: { Arn: QUEUE_ARN } }],
  })
  assert.equal(put.FailedEntryCount, 0)
  // The queue rule sends every event to the queue too: take it away, only dead letters remain.
  await call(a.url, 'RemoveTargets', { Rule: 'queue-rule', Ids: ['queue'] })
  await sleep(300)
  const out = await call(b.url, 'PutEvents', {
    Entries: Array.from({ length: 5 }, (_, seq) => ({
      Source: SOURCE,
      DetailType: 'refused',
      Detail: JSON.stringify({ seq }),
    })),
  })
  const ids = (out.Entries as { EventId: string }[]).map((e) => e.EventId)
  const letters = new Map<string, Record<string, { StringValue: string }>>()
  for (let i = 0; letters.size < ids.length; i++) {
    assert.ok(i < 30, `dead letters received: ${String(letters.size)} of ${String(ids.length)}`)
    const url = i % 2 === 0 ? a.url : b.url
    const got = await sqs(url, 'ReceiveMessage', {
      QueueUrl: `${url}${path}`,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    })
    for (const m of (got.Messages ?? []) as {
      Body: string
      MessageAttributes: Record<string, { StringValue: string }>
    }[])
      letters.set((JSON.parse(m.Body) as { id: string }).id, m.MessageAttributes)
  }
  assert.deepEqual([...letters.keys()].sort(), [...ids].sort())
  for (const attributes of letters.values()) {
    assert.equal(
      attributes.RULE_ARN?.StringValue,
      `arn:aws:events:us-east-1:${ACCOUNT}:rule/crash-rule`,
    )
    assert.ok(attributes.ERROR_CODE?.StringValue, 'an error code')
  }
  // Each delivery job ended with its dead letter: none is delivered again.
  const tried = sink.requests
  await sleep(1500)
  assert.equal(sink.requests, tried)
})
