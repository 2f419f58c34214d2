/**
 * Replays in distributed mode outlive the node that runs them: a paced replay started through
 * node A is running when A is killed (`kill -9`); its lease lapses and node B adopts it, resuming
 * after the last page A committed, to COMPLETED, with every archived event of the window
 * replayed. A replay running on one node is cancelled through the other.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ACCOUNT,
  call,
  closeEventLoad,
  SOURCE,
  startSink,
  type Sink,
} from '../helpers/event-load.js'
import { natsNodes } from '../helpers/nats-nodes.js'

const BUS = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`
const EVENTS = 40

const cluster = natsNodes()

before(() => cluster.start())

after(async () => {
  const loads = closeEventLoad()
  await cluster.close()
  await loads
})

/**
 * An archive of the default bus holding `EVENTS` events one second apart (in the past), and a
 * rule that only replayed events match, whose target is `sink`: what reaches the sink is what
 * was replayed. Returns the events' ids and the rule's ARN.
 */
async function archived(url: string, name: string, sink: Sink) {
  await call(url, 'CreateArchive', { ArchiveName: name, EventSourceArn: BUS })
  const conn = await call(url, 'CreateConnection', {
    Name: `${name}-conn`,
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-k', ApiKeyValue: 'v' } },
  })
  const dest = await call(url, 'CreateApiDestination', {
    Name: `${name}-dest`,
    ConnectionArn: conn.ConnectionArn,
    InvocationEndpoint: `${sink.url}/events`,
    HttpMethod: 'POST',
  })
  const rule = await call(url, 'PutRule', {
    Name: `${name}-replayed`,
    EventPattern: JSON.stringify({ source: [SOURCE], 'replay-name': [name] }),
  })
  await call(url, 'PutTargets', {
    Rule: `${name}-replayed`,
    Targets: [
      { Id: 'sink', Arn: dest.ApiDestinationArn, RoleArn: `arn:aws:iam::${ACCOUNT}:role/r` },
    ],
  })
  const base = Math.floor(Date.now() / 1000) - 120
  const ids: string[] = []
  for (let i = 0; i < EVENTS; i++) {
    const out = await call(url, 'PutEvents', {
      Entries: [
        {
          Source: SOURCE,
          DetailType: 'replayed',
          Detail: JSON.stringify({ seq: i }),
          Time: base + i,
        },
      ],
    })
    ids.push((out.Entries as { EventId: string }[])[0]!.EventId)
  }
  // Archiving is part of the PutEvents commit; the count is the archive's own.
  assert.equal((await call(url, 'DescribeArchive', { ArchiveName: name })).EventCount, EVENTS)
  return { ids, ruleArn: rule.RuleArn as string, from: base - 1, to: base + EVENTS }
}

async function state(url: string, name: string): Promise<string> {
  return (await call(url, 'DescribeReplay', { ReplayName: name })).State as string
}

test('a replay whose node is killed is adopted by another node and completes', async () => {
  const a = await cluster.node()
  const b = await cluster.node()
  const sink = await startSink()
  const { ids, ruleArn, from, to } = await archived(a.url, 'ledger', sink)
  await call(a.url, 'StartReplay', {
    ReplayName: 'ledger',
    EventSourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:archive/ledger`,
    EventStartTime: from,
    EventEndTime: to,
    Destination: { Arn: BUS, FilterArns: [ruleArn] },
    // Four times the original pace: 40 events a second apart take about ten seconds.
    JunctionSpeed: 4,
  })
  while (sink.successes.size < 5) await sleep(20)
  await a.kill()
  const replayedBeforeKill = sink.successes.size
  assert.ok(replayedBeforeKill < EVENTS, 'the replay was over before the kill')
  assert.equal(await state(b.url, 'ledger'), 'RUNNING')

  const deadline = Date.now() + 90_000
  while ((await state(b.url, 'ledger')) !== 'COMPLETED') {
    assert.ok(Date.now() < deadline, `never completed: ${await state(b.url, 'ledger')}`)
    await sleep(200)
  }
  const missing = await sink.waitForDelivered(ids, 30_000)
  assert.deepEqual(missing, [], 'archived events never replayed')
  const twice = [...sink.counts.values()].filter((n) => n > 1).length
  // At most the page in flight at the kill (one event when paced) is replayed twice.
  assert.ok(twice <= 1, `${String(twice)} events replayed twice`)
})

test('a replay running on one node is cancelled through another', async () => {
  const a = await cluster.node()
  const b = await cluster.node()
  const sink = await startSink()
  const { ruleArn, from, to } = await archived(a.url, 'slow', sink)
  await call(a.url, 'StartReplay', {
    ReplayName: 'slow',
    EventSourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:archive/slow`,
    EventStartTime: from,
    EventEndTime: to,
    Destination: { Arn: BUS, FilterArns: [ruleArn] },
    JunctionSpeed: 1,
  })
  while (sink.successes.size < 2) await sleep(20)
  const cancelled = await call(b.url, 'CancelReplay', { ReplayName: 'slow' })
  assert.equal(cancelled.State, 'CANCELLING')
  const deadline = Date.now() + 30_000
  while ((await state(a.url, 'slow')) !== 'CANCELLED') {
    assert.ok(Date.now() < deadline, `never cancelled: ${await state(a.url, 'slow')}`)
    await sleep(100)
  }
  assert.equal(await state(b.url, 'slow'), 'CANCELLED')
  const sent = sink.requests
  await sleep(3000)
  assert.equal(sink.requests, sent, 'events still replayed after CANCELLED')
  assert.ok(sent < EVENTS)
})
