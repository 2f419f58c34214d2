/**
 * The dispatcher's window: a backlog larger than the window is paged in from the store and every
 * job is delivered exactly once (the target here never fails to answer), with memory never above
 * the window, whatever arrives or leaves while a page is being read.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock } from '../clock.js'
import { Registry } from '../engine/registry.js'
import { DEFAULT_RETRY_POLICY, type DeliveryJob, type StoredEvent } from '../model.js'
import { createMetrics } from '../observe/metrics.js'
import { createMemoryStore } from '../store/memory/index.js'
import type { EventStore, PendingDelivery, Store } from '../store/ports.js'
import { Dispatcher } from './dispatcher.js'
import type { Invocation, InvocationResult } from './targets/adapter.js'

const silent = { error: () => undefined, warn: () => undefined, debug: () => undefined }
const BUS = 'arn:aws:events:us-east-1:111111111111:event-bus/default'
const RULE = 'arn:aws:events:us-east-1:111111111111:rule/r'
const turn = () => new Promise((r) => setImmediate(r))

type Options = {
  window: number
  maxInFlight?: number
  /** Turns a page read waits after taking its snapshot: the window for races. */
  pageDelayTurns?: number
  invoke?: (i: Invocation, n: number) => InvocationResult | Promise<InvocationResult>
  store?: Store
  clock?: ManualClock
}

async function harness(o: Options) {
  const store = o.store ?? createMemoryStore()
  const registry = await Registry.load(store.config, () => 0)
  const bus = registry.bus({ account: '111111111111', region: 'us-east-1' }, 'default')!
  if (!registry.rule(RULE)) {
    const rule = {
      name: 'r',
      arn: RULE,
      busName: 'default',
      account: '111111111111',
      region: 'us-east-1',
      eventPattern: '{"source":["s"]}',
      state: 'ENABLED' as const,
      createdBy: '111111111111',
    }
    await registry.putRule(rule, bus)
    await registry.setTargets(RULE, [
      {
        id: 't',
        arn: 'arn:test',
        input: { kind: 'event' },
        retryPolicy: DEFAULT_RETRY_POLICY,
        spec: {},
      },
    ])
  }
  const clock = o.clock ?? new ManualClock(0)
  /** Invocations per event id (one job per event here). */
  const calls = new Map<string, number>()
  let pages = 0
  let peak = 0
  const events: EventStore = {
    ...store.events,
    async due(after, limit) {
      pages++
      const rows = await store.events.due(after, limit)
      for (let i = 0; i < (o.pageDelayTurns ?? 0); i++) await turn()
      return rows
    },
  }
  const dispatcher: Dispatcher = new Dispatcher({
    registry,
    store: events,
    clock,
    metrics: createMetrics(),
    log: silent,
    maxWindow: o.window,
    maxInFlight: o.maxInFlight ?? 8,
    random: () => 0.5,
    adapters: [
      {
        kind: 'test',
        accepts: () => true,
        invoke(i) {
          const n = (calls.get(i.event.id) ?? 0) + 1
          calls.set(i.event.id, n)
          peak = Math.max(peak, dispatcher.inMemory)
          return Promise.resolve(o.invoke ? o.invoke(i, n) : { outcome: 'delivered' as const })
        },
      },
    ],
  })
  let nextId = 1
  const h = {
    store,
    dispatcher,
    clock,
    calls,
    pages: () => pages,
    peak: () => Math.max(peak, dispatcher.inMemory),
    /** Commits `n` events with one job each, due at `dueAt`; returns them as ingest hands them over. */
    async append(n: number, dueAt = clock.now()): Promise<PendingDelivery[]> {
      const out: PendingDelivery[] = []
      for (let k = 0; k < n; k++) {
        const id = nextId++
        const event: StoredEvent = {
          id: `e${String(id)}`,
          busArn: BUS,
          text: `{"source":"s","n":${String(id)}}`,
          ingestedAt: clock.now(),
          hops: 0,
        }
        const job: DeliveryJob = {
          id,
          eventId: event.id,
          busArn: BUS,
          ruleArn: RULE,
          targetId: 't',
          attempts: 0,
          dueAt,
        }
        await store.events.append([event], [job])
        out.push({ job, event })
      }
      return out
    },
    /**
     * Runs turns until `done`, sampling memory; unless `frozen`, moves the clock to the next
     * timer whenever nothing runs.
     */
    async until(
      done: () => boolean | Promise<boolean>,
      steps = 20_000,
      frozen = false,
    ): Promise<void> {
      for (let i = 0; i < steps; i++) {
        if (await done()) return
        peak = Math.max(peak, dispatcher.inMemory)
        await turn()
        if (!frozen && i % 4 === 3 && dispatcher.running === 0) clock.runNext()
      }
      assert.fail('did not finish')
    },
  }
  return h
}

const allOnce = (calls: Map<string, number>, n: number) => {
  assert.equal(calls.size, n, 'every job was invoked')
  const extra = [...calls].filter(([, c]) => c !== 1)
  assert.deepEqual(extra.slice(0, 5), [], 'no job was invoked twice')
}

test('a backlog 25 times the window is delivered exactly once, never more than the window in memory', async () => {
  const h = await harness({ window: 20, pageDelayTurns: 2 })
  await h.append(500)
  assert.equal(h.dispatcher.inMemory, 0, 'nothing is loaded before the dispatcher starts')
  h.dispatcher.start()
  await h.until(async () => (await h.store.events.pendingCount()) === 0)
  allOnce(h.calls, 500)
  assert.ok(h.peak() <= 20, `peak ${String(h.peak())} jobs in memory`)
  assert.ok(h.pages() >= 500 / 5, `${String(h.pages())} pages of 5`)
  assert.equal(h.dispatcher.inMemory, 0)
})

test('new jobs arriving while pages are read are delivered once each, memory still bounded', async () => {
  const h = await harness({ window: 16, pageDelayTurns: 3, maxInFlight: 4 })
  await h.append(200)
  h.dispatcher.start()
  // Ingest keeps committing and handing over jobs while the backlog drains.
  for (let batch = 0; batch < 60; batch++) {
    h.dispatcher.submit(await h.append(5))
    await turn()
  }
  await h.until(async () => (await h.store.events.pendingCount()) === 0)
  allOnce(h.calls, 500)
  assert.ok(h.peak() <= 16, `peak ${String(h.peak())} jobs in memory`)
})

test('with the store exhausted, new jobs are taken straight into the window until it is full', async () => {
  const h = await harness({ window: 12, maxInFlight: 1 })
  h.dispatcher.start()
  await h.until(() => h.pages() === 1) // one short page: the store holds nothing
  await turn()
  const pagesBefore = h.pages()
  h.dispatcher.submit(await h.append(10))
  assert.equal(h.dispatcher.inMemory, 10, 'admitted without a page read')
  await h.until(async () => (await h.store.events.pendingCount()) === 0)
  allOnce(h.calls, 10)
  assert.equal(h.pages(), pagesBefore, 'no page was needed')
  // Now more than fits: the rest are turned away and paged in later.
  h.dispatcher.submit(await h.append(30))
  assert.equal(h.dispatcher.inMemory, 12)
  await h.until(async () => (await h.store.events.pendingCount()) === 0)
  assert.equal(h.calls.size, 40)
  assert.ok([...h.calls.values()].every((c) => c === 1))
  assert.ok(h.pages() > pagesBefore, 'the turned-away jobs were paged in')
})

test('retries due beyond the horizon go back to the store and come back when due', async () => {
  // Every job fails once (retryable), then succeeds.
  const h = await harness({
    window: 10,
    pageDelayTurns: 1,
    invoke: (_i, n) =>
      n === 1
        ? { outcome: 'failed', retryable: true, errorCode: 'X', errorMessage: 'down' }
        : { outcome: 'delivered' },
  })
  await h.append(120)
  h.dispatcher.start()
  // Run without moving the clock: every first attempt fails; retries are 0.75 s away.
  for (let i = 0; i < 2000 && h.calls.size < 120; i++) await turn()
  assert.equal(h.calls.size, 120, 'every job had its first attempt before any retry was due')
  const stored = await h.store.events.due(undefined, 1000)
  assert.equal(stored.length, 120)
  assert.ok(stored.every((p) => p.job.attempts === 1 && p.job.dueAt === 750))
  assert.ok(h.dispatcher.inMemory <= 10, 'the retries wait in the store, not in memory')
  await h.until(async () => (await h.store.events.pendingCount()) === 0)
  assert.ok(
    [...h.calls.values()].every((c) => c === 2),
    'each job: one failure, one delivery',
  )
  assert.ok(h.peak() <= 10, `peak ${String(h.peak())}`)
})

test('jobs due now are not stuck behind a full window of jobs due later', async () => {
  const h = await harness({ window: 8, maxInFlight: 2 })
  await h.append(8, 3_600_000) // due in an hour
  h.dispatcher.start()
  await h.until(() => h.dispatcher.inMemory === 8, 100, true)
  await turn()
  // No room: the new jobs move the horizon below the later jobs, which go back to the store.
  h.dispatcher.submit(await h.append(5))
  await h.until(() => h.calls.size === 5, 500, true)
  assert.equal(h.clock.now(), 0)
  assert.ok(h.peak() <= 8)
  await h.until(async () => (await h.store.events.pendingCount()) === 0)
  allOnce(h.calls, 13)
})

test('a stop leaves the rest in the store; a new dispatcher pages it in and finishes it', async () => {
  const store = createMemoryStore()
  const clock = new ManualClock(0)
  let hold: (() => void)[] = []
  const first = await harness({
    window: 10,
    maxInFlight: 3,
    store,
    clock,
    // Each invocation waits until released, so some are in flight at the stop.
    invoke: () =>
      new Promise<InvocationResult>((r) => hold.push(() => r({ outcome: 'delivered' }))),
  })
  await first.append(100)
  first.dispatcher.start()
  for (let i = 0; i < 40; i++) {
    await turn()
    for (const f of hold.splice(0, 2)) f()
  }
  const stopped = first.dispatcher.stop(1000)
  for (const f of hold.splice(0)) f()
  await stopped
  const left = await store.events.pendingCount()
  assert.ok(left > 0 && left < 100, `${String(left)} left at the stop`)
  hold = []
  const second = await harness({ window: 10, store, clock })
  second.dispatcher.start()
  await second.until(async () => (await store.events.pendingCount()) === 0)
  const both = new Map(first.calls)
  for (const [id, n] of second.calls) both.set(id, (both.get(id) ?? 0) + n)
  allOnce(both, 100)
})

test('a job turned away while a page is read is not skipped by that page', async () => {
  const h = await harness({ window: 8, pageDelayTurns: 3 })
  await h.append(6, 3_600_000) // due in an hour: the first page reads keys beyond the new jobs'
  h.dispatcher.start()
  // The first page is being read: nothing is in memory yet, so these are turned away.
  h.dispatcher.submit(await h.append(2))
  assert.equal(h.dispatcher.inMemory, 0)
  await h.until(() => h.calls.size === 2, 500, true)
  await h.until(async () => (await h.store.events.pendingCount()) === 0)
  allOnce(h.calls, 8)
})

// Without a delay the page sees them running; with one, some finish while it is read.
for (const pageDelayTurns of [0, 2])
  test(`after the clock steps back, jobs running beyond the lowered horizon are not paged in twice (page delay ${String(pageDelayTurns)})`, async () => {
    let hold: (() => void)[] = []
    const h = await harness({
      window: 8,
      maxInFlight: 8,
      pageDelayTurns,
      clock: new ManualClock(1000),
      invoke: () =>
        new Promise<InvocationResult>((r) => hold.push(() => r({ outcome: 'delivered' }))),
    })
    h.dispatcher.start()
    await h.until(() => h.pages() === 1)
    await turn()
    h.dispatcher.submit(await h.append(8, 1000))
    await h.until(() => hold.length === 8, 100)
    // Committed with earlier due times (the system clock went back): no room, so the horizon
    // moves below the 8 running jobs, which pages will now read while they run and finish.
    h.dispatcher.submit(await h.append(2, 500))
    for (let i = 0; i < 400 && (await h.store.events.pendingCount()) > 0; i++) {
      hold.shift()?.()
      await turn()
    }
    for (const f of hold.splice(0)) f()
    await h.until(async () => (await h.store.events.pendingCount()) === 0)
    allOnce(h.calls, 10)
    assert.ok(h.peak() <= 8, `peak ${String(h.peak())}`)
    hold = []
  })

test('a page read that fails is retried; nothing is lost meanwhile', async () => {
  const store = createMemoryStore()
  let failures = 3
  const flaky: Store = {
    ...store,
    events: {
      ...store.events,
      due(after, limit) {
        if (failures-- > 0) throw new Error('disk I/O error')
        return store.events.due(after, limit)
      },
    },
  }
  const h = await harness({ window: 8, store: flaky })
  await h.append(30)
  h.dispatcher.start()
  h.dispatcher.submit(await h.append(5))
  await h.until(async () => (await store.events.pendingCount()) === 0)
  allOnce(h.calls, 35)
  assert.ok(failures < 0, 'the failed reads were retried')
})
