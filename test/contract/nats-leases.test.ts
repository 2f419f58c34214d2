/**
 * Leases on NATS and the leadership built on them, against a nats-server of our own: one holder
 * at a time; a lease nobody renews expires after its time to live (the server's clock, not the
 * nodes'); a node that loses its connection stops leading before another can take over, and
 * another does take over.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Leadership } from '../../src/cluster/leadership.js'
import { NatsLeaseStore } from '../../src/store/nats/leases.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'

let server: NatsServer
const connections: NatsConnection[] = []
let bucketSeq = 0

before(async () => {
  server = await startNatsServer()
})

after(async () => {
  for (const nc of connections) await nc.close().catch(() => undefined)
  await server.stop()
})

async function open(): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  return nc
}

const quiet = { info: () => undefined, warn: () => undefined }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('one holder at a time; renewals by the holder; a release frees it at once', async () => {
  const bucket = `leases-${String(++bucketSeq)}`
  const a = await NatsLeaseStore.open(await open(), { bucket, ttlMs: 60_000 })
  const b = await NatsLeaseStore.open(await open(), { bucket, ttlMs: 60_000 })
  assert.equal(await a.hold('schedules', 'node-a'), true)
  assert.equal(await b.hold('schedules', 'node-b'), false)
  assert.equal(await a.hold('schedules', 'node-a'), true, 'renewed')
  assert.equal(await b.hold('other-job', 'node-b'), true, 'leases are independent')
  await b.release('schedules', 'node-b') // not its lease: changes nothing
  assert.equal(await b.hold('schedules', 'node-b'), false)
  await a.release('schedules', 'node-a')
  assert.equal(await b.hold('schedules', 'node-b'), true)
  assert.equal(await a.hold('schedules', 'node-a'), false)
})

test('two nodes racing for a free lease: exactly one gets it', async () => {
  const bucket = `leases-${String(++bucketSeq)}`
  const stores = await Promise.all(
    Array.from({ length: 5 }, async () =>
      NatsLeaseStore.open(await open(), { bucket, ttlMs: 60_000 }),
    ),
  )
  const got = await Promise.all(stores.map((s, i) => s.hold('schedules', `node-${String(i)}`)))
  assert.equal(got.filter(Boolean).length, 1, `holders: ${JSON.stringify(got)}`)
})

test('a lease nobody renews expires after its time to live', async () => {
  const bucket = `leases-${String(++bucketSeq)}`
  const a = await NatsLeaseStore.open(await open(), { bucket, ttlMs: 1000 })
  const b = await NatsLeaseStore.open(await open(), { bucket, ttlMs: 1000 })
  assert.equal(await a.hold('schedules', 'node-a'), true)
  const start = Date.now()
  assert.equal(await b.hold('schedules', 'node-b'), false)
  while (!(await b.hold('schedules', 'node-b'))) {
    assert.ok(Date.now() - start < 10_000, 'the lease never expired')
    await sleep(50)
  }
  assert.ok(Date.now() - start >= 500, 'not taken long before its time to live had passed')
})

test('leadership: one leader; when it loses the store another takes over, never both at once', async () => {
  const bucket = `leases-${String(++bucketSeq)}`
  const ttlMs = 1500
  const events: string[] = []
  const make = async (name: string, nc: NatsConnection) => {
    const leases = await NatsLeaseStore.open(nc, { bucket, ttlMs })
    return new Leadership({
      leases,
      name: 'schedules',
      holder: name,
      log: quiet,
      onGain: () => events.push(`${name} gains`),
      onLose: () => events.push(`${name} loses`),
    })
  }
  const ncA = await connect({ servers: server.url })
  const a = await make('a', ncA)
  a.start()
  while (!a.isLeader) await sleep(10)
  const b = await make('b', await open())
  b.start()
  let both = 0
  const sampler = setInterval(() => {
    if (a.isLeader && b.isLeader) both++
  }, 5)
  try {
    await sleep(ttlMs) // several renewals: a keeps it
    assert.deepEqual(events, ['a gains'])
    assert.equal(b.isLeader, false)
    // a's node loses NATS (as a crash would): it stops leading, and b takes over once the lease
    // has expired.
    await ncA.close()
    const start = Date.now()
    const leads = (l: Leadership) => l.isLeader
    while (!leads(b)) {
      assert.ok(Date.now() - start < 10_000, `b never took over: ${JSON.stringify(events)}`)
      await sleep(10)
    }
    assert.deepEqual(events, ['a gains', 'a loses', 'b gains'])
    assert.equal(both, 0, 'both nodes led at the same time')
  } finally {
    clearInterval(sampler)
    await a.stop()
    await b.stop()
  }
  // A graceful stop hands the lease over at once.
  const c = await make('c', await open())
  c.start()
  await sleep(200)
  assert.equal(c.isLeader, true, 'b released the lease when it stopped')
  await c.stop()
})
