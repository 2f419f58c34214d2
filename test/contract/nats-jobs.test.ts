/**
 * Delivery jobs on NATS JetStream shared by several nodes (src/store/nats/jobs.ts), against a
 * nats-server of our own. Each test gets a fresh server; each "node" is a connection of its own
 * with its own job store, as separate processes would have.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { afterEach, beforeEach, test } from 'node:test'
import { systemClock } from '../../src/clock.js'
import { Dispatcher } from '../../src/delivery/dispatcher.js'
import type { Item, JobWindow } from '../../src/delivery/job-window.js'
import type { InvocationResult, TargetAdapter } from '../../src/delivery/targets/adapter.js'
import { Registry } from '../../src/engine/registry.js'
import { DEFAULT_RETRY_POLICY, type DeliveryJob, type StoredEvent } from '../../src/model.js'
import { createMetrics } from '../../src/observe/metrics.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { EventStore } from '../../src/store/ports.js'
import { openNatsJobStore, type NatsJobStore } from '../../src/store/nats/jobs.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'

const silent = { error: () => undefined, warn: () => undefined, debug: () => undefined }
const BUS = 'arn:aws:events:us-east-1:111111111111:event-bus/default'
const RULE = 'arn:aws:events:us-east-1:111111111111:rule/r'
const DLQ = 'arn:aws:sqs:us-east-1:111111111111:dlq.fifo'

let server: NatsServer
let connections: NatsConnection[] = []
let stores: NatsJobStore[] = []
let dispatchers: Dispatcher[] = []

beforeEach(async () => {
  server = await startNatsServer()
})

afterEach(async () => {
  for (const d of dispatchers) await d.stop(1000)
  for (const s of stores) s.close()
  for (const nc of connections) await nc.close().catch(() => undefined)
  connections = []
  stores = []
  dispatchers = []
  await server.stop()
})

/** A node: its own connection and job store. */
async function node(ackWaitMs = 30_000): Promise<{ nc: NatsConnection; jobs: NatsJobStore }> {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  const jobs = await openNatsJobStore(nc, { ackWaitMs })
  stores.push(jobs)
  return { nc, jobs }
}

function batch(n: number, now = Date.now()): { events: StoredEvent[]; jobs: DeliveryJob[] } {
  const events: StoredEvent[] = []
  const jobs: DeliveryJob[] = []
  for (let i = 0; i < n; i++) {
    const id = `event-${String(i)}`
    events.push({ id, busArn: BUS, text: `{"source":"s","id":"${id}"}`, ingestedAt: now, hops: 0 })
    jobs.push({
      id: i + 1,
      eventId: id,
      busArn: BUS,
      ruleArn: RULE,
      targetId: 't',
      attempts: 0,
      dueAt: now,
    })
  }
  return { events, jobs }
}

/** Waits until `done()` holds (checked every 50 ms); fails after `ms` with `what`. */
async function until(done: () => boolean | Promise<boolean>, what: string, ms = 20_000) {
  const end = Date.now() + ms
  while (!(await done())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * A feed: the window of a node, drained by hand. Every job handed out is recorded; with
 * `finish` it is acked, else it stays held (leased) by the node.
 */
function feed(jobs: NatsJobStore, finish: boolean, maxJobs = 50) {
  const taken: Item[] = []
  const window: JobWindow = jobs.window({
    clock: systemClock,
    log: silent,
    maxJobs,
    onAdmit: () => {
      setImmediate(drain)
    },
  })
  function drain() {
    for (let item = window.take(Date.now()); item; item = window.take(Date.now())) {
      taken.push(item)
      if (finish) {
        const done = item
        void jobs.finish([done.job.id]).then(() => {
          window.release(done)
        })
      }
    }
  }
  window.fill()
  return { window, taken, drain }
}

test('two nodes draining one consumer get every job exactly once; a retried append stores nothing twice', async () => {
  const a = await node()
  const b = await node()
  const { events, jobs } = batch(300)
  // Thirty appends of ten, as thirty PutEvents of ten entries: one message each.
  for (let i = 0; i < 300; i += 10) {
    await a.jobs.append(events.slice(i, i + 10), jobs.slice(i, i + 10))
    // its answer was lost: PutEvents is retried
    await a.jobs.append(events.slice(i, i + 10), jobs.slice(i, i + 10))
  }
  assert.equal(await a.jobs.pendingCount(), 30)
  const fa = feed(a.jobs, true, 20)
  const fb = feed(b.jobs, true, 20)
  await until(() => fa.taken.length + fb.taken.length >= 300, 'all jobs')
  await until(async () => (await b.jobs.pendingCount()) === 0, 'all acks')
  const seen = [...fa.taken, ...fb.taken].map((i) => i.event.id).sort()
  assert.deepEqual(seen, events.map((e) => e.id).sort(), 'each job once, with its event')
  assert.ok(fa.taken.length > 0 && fb.taken.length > 0, 'both nodes took a share')
  for (const item of [...fa.taken, ...fb.taken])
    assert.equal(item.event.text, `{"source":"s","id":"${item.event.id}"}`)
  fa.window.stop()
  fb.window.stop()
})

test('local job ids are unique in a node', async () => {
  const a = await node()
  const { events, jobs } = batch(40)
  await a.jobs.append(
    events,
    jobs.map((j) => ({ ...j, id: 7 })),
  ) // another node's counter
  const fa = feed(a.jobs, false)
  await until(() => fa.taken.length === 40, 'all jobs')
  assert.equal(new Set(fa.taken.map((i) => i.job.id)).size, 40)
  fa.window.stop()
})

test('jobs held by a node that dies go to another node after AckWait; a live node keeps its jobs', async () => {
  const a = await node(2_000)
  const b = await node(2_000)
  const { events, jobs } = batch(5)
  await a.jobs.append(events, jobs)
  const fa = feed(a.jobs, false)
  await until(() => fa.taken.length === 5, 'node a to take the jobs')
  const fb = feed(b.jobs, true)
  // Longer than AckWait: node a keeps its jobs leased while it lives.
  await new Promise((r) => setTimeout(r, 3_500))
  assert.equal(fb.taken.length, 0, 'a live node’s jobs are not handed out again')
  await a.nc.close() // dies without acking
  await until(() => fb.taken.length === 5, 'node b to get the jobs')
  assert.deepEqual(fb.taken.map((i) => i.event.id).sort(), events.map((e) => e.id).sort())
  await until(async () => (await b.jobs.pendingCount()) === 0, 'node b’s acks')
  fb.window.stop()
})

test('a stopped window hands its waiting jobs back at once', async () => {
  const a = await node()
  const b = await node()
  const { events, jobs } = batch(3)
  await a.jobs.append(events, jobs)
  const fa = feed(a.jobs, false)
  // Held, not taken: the window admits them but no one asks for them.
  fa.window.take = () => undefined
  await until(() => fa.window.size === 3, 'node a to hold the jobs')
  fa.window.stop()
  const fb = feed(b.jobs, true)
  await until(() => fb.taken.length === 3, 'node b to get the jobs') // AckWait is 30 s here
  fb.window.stop()
})

test('a rescheduled job comes back when due with one more attempt; a dead letter is read back', async () => {
  const a = await node()
  const { events, jobs } = batch(1)
  await a.jobs.append(events, jobs)
  const fa = feed(a.jobs, false)
  await until(() => fa.taken.length === 1, 'the job')
  const first = fa.taken[0]!
  assert.equal(first.job.attempts, 0)
  const dueAt = Date.now() + 2_500
  await a.jobs.reschedule({ ...first.job, attempts: 1, dueAt })
  fa.window.requeue(first)
  await until(
    () => {
      fa.drain() // no timer here: the dispatcher would set one for its due time
      return fa.taken.length === 2
    },
    'the retry',
    10_000,
  )
  const retry = fa.taken[1]!
  assert.ok(Date.now() >= dueAt, 'not before its due time')
  assert.equal(retry.job.attempts, 1)
  assert.equal(retry.job.dueAt, dueAt)
  assert.equal(retry.event.id, first.event.id)
  assert.notEqual(retry.job.id, first.job.id)

  const letter = {
    job: { ...retry.job, attempts: 2 },
    event: retry.event,
    dlqArn: DLQ,
    ruleArn: RULE,
    targetArn: 'arn:test',
    errorCode: 'SDK_CLIENT_ERROR',
    errorMessage: 'boom',
    exhaustedRetryCondition: 'MaximumRetryAttempts',
    retryAttempts: 1,
    at: Date.now(),
  }
  await a.jobs.deadLetter(letter)
  fa.window.release(retry)
  assert.deepEqual(await a.jobs.deadLetters(DLQ), [letter])
  assert.deepEqual(await a.jobs.deadLetters(`${DLQ}-other`), [])
  assert.equal(await a.jobs.pendingCount(), 0)
  fa.window.stop()
})

test('a bundle: acked only when its last job is done; a rescheduled job comes back alone', async () => {
  const a = await node()
  const { events, jobs } = batch(3)
  await a.jobs.append(events, jobs) // one append: one message
  assert.equal(await a.jobs.pendingCount(), 1)
  const fa = feed(a.jobs, false)
  await until(() => fa.taken.length === 3, 'the three jobs')
  const [one, two, three] = fa.taken as [Item, Item, Item]
  await a.jobs.finish([one.job.id])
  fa.window.release(one)
  await a.jobs.reschedule({ ...two.job, attempts: 1, dueAt: Date.now() })
  fa.window.requeue(two)
  // The third job is still being delivered: the bundle is not acked, the retry is a message of its own.
  assert.equal(await a.jobs.pendingCount(), 2)
  await a.jobs.finish([three.job.id])
  fa.window.release(three)
  await until(() => {
    fa.drain()
    return fa.taken.length === 4
  }, 'the retry')
  const retry = fa.taken[3]!
  assert.equal(retry.event.id, two.event.id)
  assert.equal(retry.job.attempts, 1)
  await a.jobs.finish([retry.job.id])
  fa.window.release(retry)
  await until(async () => (await a.jobs.pendingCount()) === 0, 'every message acked')
  fa.window.stop()
})

test('a bundle left by a stopping node with a job still running comes back whole', async () => {
  const a = await node(2_000)
  const b = await node(2_000)
  const { events, jobs } = batch(3)
  await a.jobs.append(events, jobs)
  const fa = feed(a.jobs, false)
  await until(() => fa.taken.length === 3, 'node a to take the jobs')
  // One job done, one running (never answered), one handed back to the window unstarted.
  await a.jobs.finish([fa.taken[0]!.job.id])
  fa.window.release(fa.taken[0]!)
  fa.window.delay({ ...fa.taken[2]!, job: { ...fa.taken[2]!.job, dueAt: Date.now() + 60_000 } })
  fa.window.stop()
  // Not acked for the running job's sake, not kept alive either: after AckWait, all of it.
  const fb = feed(b.jobs, true)
  await until(() => fb.taken.length === 3, 'node b to get the whole bundle')
  assert.deepEqual(fb.taken.map((i) => i.event.id).sort(), events.map((e) => e.id).sort())
  fb.window.stop()
})

test('schedule ticks: the latest per rule, read back by any node; what NATS does not hold is refused', async () => {
  const a = await node()
  const b = await node()
  assert.deepEqual(await b.jobs.scheduleTicks(), new Map())
  const { events, jobs } = batch(1)
  await a.jobs.append(events, jobs, { ticks: [{ ruleArn: RULE, tick: 60_000 }] })
  await a.jobs.append([], [], { ticks: [{ ruleArn: RULE, tick: 120_000 }] })
  assert.deepEqual(await b.jobs.scheduleTicks(), new Map([[RULE, 120_000]]))
  // The last node to start sets the consumer's AckWait.
  await openNatsJobStore(b.nc, { ackWaitMs: 5_000 })
  const jsm = await jetstreamManager(a.nc)
  const info = await jsm.consumers.info('JUNCTION_JOBS', 'junction-delivery')
  assert.equal(info.config.ack_wait, nanos(5_000))
  const asPort: EventStore = a.jobs
  await assert.rejects(asPort.due(undefined, 10), /window/)
})

/** A registry with rule r and its target t, as a node loads it from its config. */
async function registry(): Promise<Registry> {
  const registry = await Registry.load(createMemoryStore().config, () => 0)
  const bus = registry.bus({ account: '111111111111', region: 'us-east-1' }, 'default')!
  await registry.putRule(
    {
      name: 'r',
      arn: RULE,
      busName: 'default',
      account: '111111111111',
      region: 'us-east-1',
      eventPattern: '{"source":["s"]}',
      state: 'ENABLED',
      createdBy: '111111111111',
    },
    bus,
  )
  await registry.setTargets(RULE, [
    {
      id: 't',
      arn: 'arn:test',
      input: { kind: 'event' },
      retryPolicy: DEFAULT_RETRY_POLICY,
      spec: {},
    },
  ])
  return registry
}

async function dispatcherNode(invoke: (eventId: string, attempt: number) => InvocationResult) {
  const { jobs } = await node()
  const adapter: TargetAdapter = {
    kind: 'test',
    accepts: () => true,
    invoke: ({ event, attempt }) => Promise.resolve(invoke(event.id, attempt)),
  }
  const dispatcher = new Dispatcher({
    registry: await registry(),
    store: jobs,
    adapters: [adapter],
    clock: systemClock,
    metrics: createMetrics(),
    log: silent,
    maxWindow: 40,
    random: () => 0,
    window: (deps) => jobs.window(deps),
  })
  dispatchers.push(dispatcher)
  dispatcher.start()
  return { jobs, dispatcher }
}

test('two dispatchers on the shared consumer deliver 500 events, each exactly once', async () => {
  const delivered = new Map<string, number>()
  const byNode = [0, 0]
  const nodes = await Promise.all(
    [0, 1].map((n) =>
      dispatcherNode((eventId) => {
        delivered.set(eventId, (delivered.get(eventId) ?? 0) + 1)
        byNode[n]!++
        return { outcome: 'delivered' }
      }),
    ),
  )
  const { events, jobs } = batch(500)
  // Appended in parts by both nodes, as PutEvents calls land on either.
  for (let i = 0; i < 500; i += 50) {
    const part = { events: events.slice(i, i + 50), jobs: jobs.slice(i, i + 50) }
    await nodes[(i / 50) % 2]!.jobs.append(part.events, part.jobs)
  }
  await until(() => delivered.size === 500, '500 deliveries', 30_000)
  await until(async () => (await nodes[0]!.jobs.pendingCount()) === 0, 'all acks')
  assert.deepEqual([...new Set(delivered.values())], [1], 'each event delivered once')
  assert.ok(byNode[0]! > 0 && byNode[1]! > 0, `both nodes delivered: ${byNode.join('/')}`)
})

test('a target failing twice is retried, with one more attempt each time, then delivered once', async () => {
  const attempts: number[] = []
  const { jobs } = await dispatcherNode((_eventId, attempt) => {
    attempts.push(attempt)
    return attempt <= 2
      ? { outcome: 'failed', retryable: true, errorCode: 'SDK_CLIENT_ERROR', errorMessage: 'no' }
      : { outcome: 'delivered' }
  })
  const { events, jobs: list } = batch(1)
  await jobs.append(events, list)
  await until(() => attempts.length === 3, 'the third attempt')
  await until(async () => (await jobs.pendingCount()) === 0, 'the ack')
  assert.deepEqual(attempts, [1, 2, 3])
})
