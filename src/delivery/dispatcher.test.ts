import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock } from '../clock.js'
import { Registry } from '../engine/registry.js'
import { DEFAULT_RETRY_POLICY, type DeliveryJob, type StoredEvent } from '../model.js'
import { createMetrics } from '../observe/metrics.js'
import { createMemoryStore } from '../store/memory/index.js'
import type { EventStore } from '../store/ports.js'
import { Dispatcher } from './dispatcher.js'
import type { TargetAdapter } from './targets/adapter.js'

const silent = { error: () => undefined, warn: () => undefined, debug: () => undefined }

async function setUp(failFinishes: number) {
  const store = createMemoryStore()
  const registry = await Registry.load(store.config, () => 0)
  const bus = registry.bus({ account: '111111111111', region: 'us-east-1' }, 'default')!
  const rule = {
    name: 'r',
    arn: 'arn:aws:events:us-east-1:111111111111:rule/r',
    busName: 'default',
    account: '111111111111',
    region: 'us-east-1',
    eventPattern: '{"source":["s"]}',
    state: 'ENABLED' as const,
    createdBy: '111111111111',
  }
  await registry.putRule(rule, bus)
  await registry.setTargets(rule.arn, [
    {
      id: 't',
      arn: 'arn:test',
      input: { kind: 'event' },
      retryPolicy: DEFAULT_RETRY_POLICY,
      spec: {},
    },
  ])
  let failures = failFinishes
  const events: EventStore = {
    ...store.events,
    finish(ids) {
      if (failures-- > 0) return Promise.reject(new Error('disk full'))
      return store.events.finish(ids)
    },
  }
  let invocations = 0
  const adapter: TargetAdapter = {
    kind: 'test',
    accepts: () => true,
    invoke() {
      invocations++
      return Promise.resolve({ outcome: 'delivered' })
    },
  }
  const clock = new ManualClock(0)
  const dispatcher = new Dispatcher({
    registry,
    store: events,
    adapters: [adapter],
    clock,
    metrics: createMetrics(),
    log: silent,
  })
  const event: StoredEvent = {
    id: 'e',
    busArn: bus.arn,
    text: '{"source":"s"}',
    ingestedAt: 0,
    hops: 0,
  }
  const job: DeliveryJob = {
    id: 1,
    eventId: 'e',
    busArn: bus.arn,
    ruleArn: rule.arn,
    targetId: 't',
    attempts: 0,
    dueAt: 0,
  }
  await events.append([event], [job])
  return { dispatcher, clock, store, event, job, invocations: () => invocations }
}

const turn = () => new Promise((r) => setImmediate(r))

test('when storing the outcome fails, the write is retried and the target is not called again', async () => {
  const s = await setUp(2)
  s.dispatcher.submit([{ job: s.job, event: s.event }])
  for (let i = 0; i < 5; i++) await turn()
  assert.equal(s.invocations(), 1)
  assert.equal(await s.store.events.pendingCount(), 1, 'not finished yet: the write failed')
  for (let i = 0; i < 10; i++) {
    s.clock.runNext()
    for (let k = 0; k < 3; k++) await turn()
  }
  assert.equal(s.invocations(), 1, 'the target was called once')
  assert.equal(await s.store.events.pendingCount(), 0, 'finished once the store recovered')
})

test('a stop leaves a job whose outcome could not be stored pending, for the next start', async () => {
  const s = await setUp(100)
  s.dispatcher.submit([{ job: s.job, event: s.event }])
  for (let i = 0; i < 5; i++) await turn()
  await s.dispatcher.stop(100)
  assert.equal(await s.store.events.pendingCount(), 1)
  assert.equal(s.invocations(), 1)
})
