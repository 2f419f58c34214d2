/**
 * One contract for every store `junction serve` can run on (memory, SQLite, NATS), through the
 * same entry point the server uses (`openStore`) and the same delivery engine (the dispatcher
 * with the window its store gives it): configuration documents written and read back (and, where
 * several processes share the store, seen by the others as they change), every job of an append
 * delivered once with its event, a failing target retried with one more attempt each time, a
 * dead letter kept for its queue, an archive's events counted and read back in their order.
 * Each store's own suite (store.contract, nats-*.test.ts) checks what only it does.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, afterEach, before, describe, test } from 'node:test'
import { systemClock } from '../../src/clock.js'
import { Dispatcher } from '../../src/delivery/dispatcher.js'
import type { InvocationResult, TargetAdapter } from '../../src/delivery/targets/adapter.js'
import { Registry } from '../../src/engine/registry.js'
import { DEFAULT_RETRY_POLICY, type DeliveryJob, type StoredEvent } from '../../src/model.js'
import { createMetrics } from '../../src/observe/metrics.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { openStore, type OpenedStore } from '../../src/store/open.js'
import type { ConfigOp } from '../../src/store/ports.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { tempDir } from '../helpers/server.js'

const ACCOUNT = '111111111111'
const BUS = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`
const RULE = `arn:aws:events:us-east-1:${ACCOUNT}:rule/r`
const DLQ = `arn:aws:sqs:us-east-1:${ACCOUNT}:dlq`
const silent = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  fatal: () => undefined,
}

let nats: NatsServer
const dirs: string[] = []
const opened: OpenedStore[] = []
const dispatchers: Dispatcher[] = []

before(async () => {
  nats = await startNatsServer()
})

// Nodes on one NATS share its jobs consumer: a dispatcher left running would take the next
// test's jobs.
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop(1000)
})

after(async () => {
  for (const o of opened) await o.store.close().catch(() => undefined)
  await nats.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

type Kind = 'memory' | 'sqlite' | 'nats'

/** A store as `serve` opens it; for NATS, a fresh stream namespace is a fresh server's. */
async function open(kind: Kind, dataDir = tempDir('junction-contract-')): Promise<OpenedStore> {
  dirs.push(dataDir)
  const o = await openStore({
    store: kind,
    dataDir,
    sync: 'normal',
    natsUrl: nats.url,
    natsAckWaitMs: 5_000,
    log: silent,
    onFatal: (e) => {
      throw e
    },
  })
  opened.push(o)
  return o
}

function batch(prefix: string, n: number): { events: StoredEvent[]; jobs: DeliveryJob[] } {
  const events: StoredEvent[] = []
  const jobs: DeliveryJob[] = []
  const now = Date.now()
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i)}`
    events.push({
      id,
      busArn: BUS,
      text: `{"version":"0","id":"${id}","source":"s","time":"2026-12-05T08:00:0${String(i % 10)}Z","resources":[],"detail":{"n":${String(i)}}}`,
      ingestedAt: now,
      hops: 0,
    })
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

async function until(done: () => boolean | Promise<boolean>, what: string, ms = 30_000) {
  const end = Date.now() + ms
  while (!(await done())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** A dispatcher on the store, as the bus builds it, with a target answering through `invoke`. */
async function dispatcherOn(
  o: OpenedStore,
  invoke: (eventId: string, attempt: number) => InvocationResult,
  deadLetterArn?: string,
): Promise<{ append: (events: StoredEvent[], jobs: DeliveryJob[]) => Promise<void> }> {
  const registry = await Registry.load(createMemoryStore().config, () => 0)
  const bus = registry.bus({ account: ACCOUNT, region: 'us-east-1' }, 'default')!
  await registry.putRule(
    {
      name: 'r',
      arn: RULE,
      busName: 'default',
      account: ACCOUNT,
      region: 'us-east-1',
      eventPattern: '{"source":["s"]}',
      state: 'ENABLED',
      createdBy: ACCOUNT,
    },
    bus,
  )
  await registry.setTargets(RULE, [
    {
      id: 't',
      arn: 'arn:test',
      input: { kind: 'event' },
      retryPolicy: { ...DEFAULT_RETRY_POLICY, maximumRetryAttempts: 3 },
      spec: {},
      ...(deadLetterArn ? { deadLetterArn } : {}),
    },
  ])
  const adapter: TargetAdapter = {
    kind: 'test',
    accepts: () => true,
    invoke: ({ event, attempt }) => Promise.resolve(invoke(event.id, attempt)),
  }
  const d = new Dispatcher({
    registry,
    store: o.store.events,
    adapters: [adapter],
    clock: systemClock,
    metrics: createMetrics(),
    log: silent,
    maxWindow: 40,
    // No jitter: retries come after the policy's first backoff exactly.
    random: () => 0,
    ...(o.jobWindow ? { window: o.jobWindow } : {}),
  })
  dispatchers.push(d)
  d.start()
  // As ingest does: the jobs, once durable, go to the dispatcher (a shared store's window takes
  // them from the store instead).
  return {
    append: async (events, jobs) => {
      await o.store.events.append(events, jobs)
      const byId = new Map(events.map((e) => [e.id, e]))
      d.submit(jobs.map((job) => ({ job, event: byId.get(job.eventId)! })))
    },
  }
}

for (const kind of ['memory', 'sqlite', 'nats'] as const) {
  describe(`store ports: ${kind}`, () => {
    test('configuration documents: written, deleted, read back', async () => {
      const dir = tempDir('junction-contract-')
      const o = await open(kind, dir)
      const key = `k-${kind}`
      await o.store.config.apply([
        { op: 'put', kind: 'rule', key: `${key}-1`, doc: { v: 1 } },
        { op: 'put', kind: 'rule', key: `${key}-2`, doc: { v: 1, text: 'é \u{1F600} "q"' } },
      ])
      await o.store.config.apply([
        { op: 'put', kind: 'rule', key: `${key}-1`, doc: { v: 2 } },
        { op: 'delete', kind: 'rule', key: `${key}-2` },
      ])
      const mine = (entries: { key: string }[]) => entries.filter((e) => e.key.startsWith(key))
      assert.deepEqual(mine(await o.store.config.load()), [
        { kind: 'rule', key: `${key}-1`, doc: { v: 2 } },
      ])
      if (kind === 'memory') return // nothing outlives the process
      if (kind === 'sqlite') {
        await o.store.close()
        opened.splice(opened.indexOf(o), 1)
      }
      // Another process on the same store (SQLite: after this one stopped; NATS: beside it).
      const other = await open(kind, dir)
      assert.deepEqual(mine(await other.store.config.load()), [
        { kind: 'rule', key: `${key}-1`, doc: { v: 2 } },
      ])
      if (kind !== 'nats') return
      // Change notifications: what one node writes, the other is told, in order, once.
      const seen: ConfigOp[] = []
      const stop = other.store.config.watch!((op) => seen.push(op))
      await o.store.config.apply([{ op: 'put', kind: 'rule', key: `${key}-3`, doc: { v: 3 } }])
      await o.store.config.apply([{ op: 'delete', kind: 'rule', key: `${key}-1` }])
      await until(() => seen.length >= 2, 'the other node to see both changes', 5_000)
      stop()
      assert.deepEqual(seen, [
        { op: 'put', kind: 'rule', key: `${key}-3`, doc: { v: 3 } },
        { op: 'delete', kind: 'rule', key: `${key}-1` },
      ])
    })

    test('every job of an append is delivered once, with its event', async () => {
      const o = await open(kind)
      const delivered = new Map<string, number>()
      const node = await dispatcherOn(o, (id) => {
        delivered.set(id, (delivered.get(id) ?? 0) + 1)
        return { outcome: 'delivered' }
      })
      const { events, jobs } = batch(`once-${kind}`, 60)
      for (let i = 0; i < 60; i += 10)
        await node.append(events.slice(i, i + 10), jobs.slice(i, i + 10))
      await until(() => delivered.size === 60, '60 deliveries')
      await until(async () => (await o.store.events.pendingCount()) === 0, 'nothing pending')
      assert.deepEqual([...new Set(delivered.values())], [1])
    })

    test('a failing target is retried with one more attempt each time, then delivered', async () => {
      const o = await open(kind)
      const attempts: number[] = []
      const node = await dispatcherOn(o, (_id, attempt) => {
        attempts.push(attempt)
        return attempt <= 2
          ? {
              outcome: 'failed',
              retryable: true,
              errorCode: 'SDK_CLIENT_ERROR',
              errorMessage: 'no',
            }
          : { outcome: 'delivered' }
      })
      const { events, jobs } = batch(`retry-${kind}`, 1)
      await node.append(events, jobs)
      await until(() => attempts.length === 3, 'the third attempt', 60_000)
      await until(async () => (await o.store.events.pendingCount()) === 0, 'nothing pending')
      assert.deepEqual(attempts, [1, 2, 3])
    })

    test('a target that refuses for good sends the event to its dead-letter queue', async () => {
      const o = await open(kind)
      const node = await dispatcherOn(
        o,
        () => ({ outcome: 'failed', retryable: false, errorCode: 'NO', errorMessage: 'refused' }),
        DLQ,
      )
      const { events, jobs } = batch(`dead-${kind}`, 2)
      await node.append(events, jobs)
      let letters: Awaited<ReturnType<typeof o.store.events.deadLetters>> = []
      await until(async () => {
        letters = (await o.store.events.deadLetters(DLQ)).filter((l) =>
          l.event.id.startsWith(`dead-${kind}`),
        )
        return letters.length === 2
      }, 'two dead letters')
      assert.deepEqual(
        letters.map((l) => l.event.id).sort(),
        events.map((e) => e.id),
      )
      assert.ok(letters.every((l) => l.errorCode === 'NO' && l.errorMessage === 'refused'))
      await until(async () => (await o.store.events.pendingCount()) === 0, 'nothing pending')
    })

    test('an archive counts its events and reads them back in order', async () => {
      const o = await open(kind)
      const archive = 7_000 + ['memory', 'sqlite', 'nats'].indexOf(kind)
      const { events } = batch(`archived-${kind}`, 5)
      await o.store.events.append(events, [], {
        archived: events.map((e, i) => ({ archive, event: i, time: 1_000 + i })),
      })
      const stats = await o.store.archives.stats(archive)
      assert.equal(stats.eventCount, 5)
      assert.ok(stats.sizeBytes >= events.reduce((n, e) => n + e.text.length, 0))
      const page = await o.store.archives.page(archive, -Infinity, Infinity, undefined, 10)
      assert.deepEqual(
        page.map((p) => p.event.id),
        events.map((e) => e.id),
      )
      await o.store.archives.drop(archive)
      assert.equal((await o.store.archives.stats(archive)).eventCount, 0)
    })
  })
}
