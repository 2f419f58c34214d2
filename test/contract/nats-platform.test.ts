/**
 * What the distributed store will rely on in nats-server as Debian ships it (2.9): checked
 * against a real server of our own, so that a server that behaves otherwise fails here first.
 * - a message id deduplicates a publish (`Nats-Msg-Id`);
 * - `nak(delay)` hands a message back after the delay, counted as a new delivery, and an ack of
 *   the redelivery removes it from a work queue (backoff and visibility timeouts);
 * - a message neither acked nor nak'd comes back after the consumer's AckWait (a node that
 *   died);
 * - KV `create` refuses an existing key and `update` a stale revision (leases, compare-and-set);
 *   a watcher sees another connection's change (configuration on every node);
 * - JetStream data survives a kill -9 of the server.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'

let server: NatsServer
const connections: NatsConnection[] = []

async function open(): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  return nc
}

before(async () => {
  server = await startNatsServer()
})

after(async () => {
  for (const nc of connections) await nc.close().catch(() => undefined)
  await server.stop()
})

test('the server is the version the design was checked against, with JetStream', async () => {
  const nc = await open()
  assert.match(nc.info?.version ?? '', /^2\.\d+\.\d+/)
  assert.equal(nc.info?.jetstream, true)
})

test('a message id deduplicates a publish', async () => {
  const nc = await open()
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: 'DEDUPE', subjects: ['dedupe.>'] })
  const js = jetstream(nc)
  const first = await js.publish('dedupe.a', 'one', { msgID: 'event-1' })
  const again = await js.publish('dedupe.a', 'one', { msgID: 'event-1' })
  assert.equal(first.duplicate, false)
  assert.equal(again.duplicate, true)
  assert.equal(again.seq, first.seq)
  assert.equal((await jsm.streams.info('DEDUPE')).state.messages, 1)
})

test('nak(delay) redelivers after the delay; an ack of the redelivery removes it from a work queue', async () => {
  const nc = await open()
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({
    name: 'JOBS',
    subjects: ['jobs.>'],
    retention: RetentionPolicy.Workqueue,
  })
  await jsm.consumers.add('JOBS', {
    durable_name: 'deliver',
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
  })
  const js = jetstream(nc)
  await js.publish('jobs.a', 'job-1', { msgID: 'job-1' })
  const consumer = await js.consumers.get('JOBS', 'deliver')
  const first = await consumer.next({ expires: 5_000 })
  assert.ok(first)
  assert.equal(first.info.deliveryCount, 1)
  const nakAt = Date.now()
  first.nak(2_500)
  // Not before the delay (a short fetch finds nothing)…
  assert.equal(await consumer.next({ expires: 1_000 }), null)
  // …then the same message, its second delivery.
  const second = await consumer.next({ expires: 5_000 })
  assert.ok(second)
  assert.ok(Date.now() - nakAt >= 2_400, `redelivered after ${String(Date.now() - nakAt)} ms`)
  assert.equal(second.string(), 'job-1')
  assert.equal(second.info.deliveryCount, 2)
  assert.equal(await second.ackAck(), true)
  assert.equal((await jsm.streams.info('JOBS')).state.messages, 0)
})

test('a message neither acked nor nak’d comes back after AckWait', async () => {
  const nc = await open()
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: 'LEASES', subjects: ['leases.>'] })
  await jsm.consumers.add('LEASES', {
    durable_name: 'short',
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(1_000),
  })
  const js = jetstream(nc)
  await js.publish('leases.a', 'work')
  const consumer = await js.consumers.get('LEASES', 'short')
  const taken = await consumer.next({ expires: 5_000 })
  assert.ok(taken)
  // The taker "dies": no ack. Another fetch gets it once AckWait has run out.
  const back = await consumer.next({ expires: 5_000 })
  assert.ok(back)
  assert.equal(back.info.deliveryCount, 2)
  back.ack()
})

test('KV: create refuses an existing key, update a stale revision; a watcher sees another connection’s change', async () => {
  const a = new Kvm(await open())
  const b = new Kvm(await open())
  const kvA = await a.create('leases')
  const kvB = await b.open('leases')
  const rev = await kvA.create('scheduler', 'node-a')
  await assert.rejects(kvB.create('scheduler', 'node-b'))
  const renewed = await kvA.update('scheduler', 'node-a', rev)
  await assert.rejects(kvB.update('scheduler', 'node-b', rev))
  assert.equal((await kvB.get('scheduler'))?.string(), 'node-a')

  const watch = await kvB.watch({ key: 'config.>' })
  const seen: string[] = []
  const done = (async () => {
    for await (const e of watch) {
      seen.push(`${e.key}=${e.string()}`)
      if (seen.length === 2) break
    }
  })()
  await kvA.put('config.rule', 'v1')
  await kvA.put('config.rule', 'v2')
  await done
  assert.deepEqual(seen, ['config.rule=v1', 'config.rule=v2'])
  assert.ok(renewed > rev)
})

test('JetStream data survives a kill -9 of the server', async () => {
  const nc = await open()
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: 'DURABLE', subjects: ['durable.>'] })
  const js = jetstream(nc)
  for (let i = 0; i < 50; i++) await js.publish('durable.a', `m-${String(i)}`)
  await nc.close()
  const { port, storeDir } = server
  await server.kill()
  server = await startNatsServer({ port, storeDir })
  const again = await open()
  const info = await (await jetstreamManager(again)).streams.info('DURABLE')
  assert.equal(info.state.messages, 50)
})
