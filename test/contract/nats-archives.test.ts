/**
 * Archives on NATS JetStream (src/store/nats/archives.ts), against a nats-server of our own:
 * the behaviours the store contract asserts for archives (store.contract.test.ts), with the one
 * documented difference (a page lists events in arrival order, not by event time), plus what
 * only a shared store has: a retried append, two nodes, a restart of the server.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { afterEach, beforeEach, test } from 'node:test'
import { Replays } from '../../src/archive/replays.js'
import { systemClock } from '../../src/clock.js'
import type { Ingest } from '../../src/engine/ingest.js'
import { Registry } from '../../src/engine/registry.js'
import type { ArchiveCursor, Replay, StoredEvent } from '../../src/model.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { archiveStream, openNatsArchiveStore } from '../../src/store/nats/archives.js'
import type { NatsArchiveStore } from '../../src/store/nats/archives.js'
import { openNatsJobStore, type NatsJobStore } from '../../src/store/nats/jobs.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'

const BUS = 'arn:aws:events:us-east-1:111111111111:event-bus/default'

let server: NatsServer
let connections: NatsConnection[] = []
let stores: NatsJobStore[] = []

beforeEach(async () => {
  server = await startNatsServer()
})

afterEach(async () => {
  for (const s of stores) s.close()
  for (const nc of connections) await nc.close().catch(() => undefined)
  connections = []
  stores = []
  await server.stop()
})

type Node = { nc: NatsConnection; jobs: NatsJobStore; archives: NatsArchiveStore }

/** A node: its own connection, job store (which writes archives) and archive store. */
async function node(config?: ReturnType<typeof createMemoryStore>['config']): Promise<Node> {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  const archives = await openNatsArchiveStore(nc)
  const jobs = await openNatsJobStore(nc, { archives, ...(config ? { config } : {}) })
  stores.push(jobs)
  return { nc, jobs, archives }
}

const event = (id: string, ingestedAt: number): StoredEvent => ({
  id,
  busArn: BUS,
  // Characters a careless encoding would damage: non-BMP, quotes, a number JSON cannot hold.
  text: `{"version":"0","id":"${id}","detail":{"n":1e400,"s":"\u{1F600} \\"q\\""}}`,
  ingestedAt,
  hops: 0,
})

/** Every event of the archive in [from, to], read `limit` at a time with the cursor. */
async function readAll(
  archives: NatsArchiveStore,
  archive: number,
  from: number,
  to: number,
  limit: number,
): Promise<string[]> {
  const out: string[] = []
  let after: ArchiveCursor | undefined
  for (;;) {
    const page = await archives.page(archive, from, to, after, limit)
    assert.ok(page.length <= limit)
    out.push(...page.map((x) => x.event.id))
    if (page.length === 0) return out
    const last = page[page.length - 1]!
    after = { time: last.time, seq: last.seq }
  }
}

test('archived events: written with their append, paged in arrival order within the time range, counted, purged, dropped', async () => {
  const config = createMemoryStore().config
  const { jobs, archives } = await node(config)
  const [a, b, c, d] = [event('a', 1000), event('b', 2000), event('c', 3000), event('d', 4000)]
  // Archive 7 keeps a, b, c (times out of arrival order); archive 8 keeps d; config rides along.
  await jobs.append([a, b], [], {
    archived: [
      { archive: 7, event: 0, time: 50_000 },
      { archive: 7, event: 1, time: 10_000 },
    ],
    config: [{ op: 'put', kind: 'replay', key: 'r', doc: { cursor: 1 } }],
  })
  await jobs.append([c, d], [], {
    archived: [
      { archive: 7, event: 0, time: 30_000 },
      { archive: 8, event: 1, time: 30_000 },
    ],
  })
  assert.deepEqual(await config.load(), [{ kind: 'replay', key: 'r', doc: { cursor: 1 } }])
  const ids = async (from: number, to: number, after?: ArchiveCursor) =>
    (await archives.page(7, from, to, after, 10)).map((x) => x.event.id)
  // SQLite gives b, c, a (by event time); a stream gives its arrival order.
  assert.deepEqual(await ids(0, 100_000), ['a', 'b', 'c'])
  assert.deepEqual(await ids(10_000, 30_000), ['b', 'c'])
  const first = (await archives.page(7, 0, 100_000, undefined, 1))[0]!
  assert.deepEqual(first.event, a)
  assert.equal(first.time, 50_000)
  assert.equal(first.archivedAt, 1000)
  assert.deepEqual(await ids(0, 100_000, { time: first.time, seq: first.seq }), ['b', 'c'])
  // The stream's bytes: the events' text plus each message's subject, headers and record.
  const bytes = Buffer.byteLength(a.text)
  const stats = await archives.stats(7)
  assert.equal(stats.eventCount, 3)
  assert.ok(
    stats.sizeBytes > 3 * bytes && stats.sizeBytes < 3 * (bytes + 400),
    String(stats.sizeBytes),
  )
  await archives.purge(7, 2500) // a and b were archived before
  assert.deepEqual(await ids(0, 100_000), ['c'])
  assert.equal((await archives.stats(7)).eventCount, 1)
  await archives.purge(7, 2500) // nothing more to forget
  assert.deepEqual(await ids(0, 100_000), ['c'])
  await archives.drop(7)
  assert.deepEqual(await archives.stats(7), { eventCount: 0, sizeBytes: 0 })
  assert.deepEqual(await ids(0, 100_000), [])
  await archives.drop(7) // dropping a dropped archive is no error
  assert.equal((await archives.stats(8)).eventCount, 1)
  assert.deepEqual(await readAll(archives, 8, 0, 100_000, 10), ['d'])
  // An archive never written to: nothing, and no stream made by reading it.
  assert.deepEqual(await archives.stats(9), { eventCount: 0, sizeBytes: 0 })
  assert.deepEqual(await archives.page(9, 0, 100_000, undefined, 10), [])
  await archives.purge(9, 2500)
})

test('pages: a cursor resumes after its event, the time range filters, across many read batches', async () => {
  const { jobs, archives } = await node()
  const events = Array.from({ length: 700 }, (_, i) => event(`e-${String(i)}`, 1000 + i))
  // Even events at time i, odd ones far outside the range asked for below.
  await jobs.append(events, [], {
    archived: events.map((_, i) => ({ archive: 3, event: i, time: i % 2 ? 10_000_000 : i })),
  })
  const even = events.filter((_, i) => i % 2 === 0).map((e) => e.id)
  assert.deepEqual(await readAll(archives, 3, 0, 1_000_000, 100), even)
  assert.deepEqual(await readAll(archives, 3, 0, 1_000_000, 1000), even)
  assert.deepEqual(await readAll(archives, 3, 100, 199, 7), even.slice(50, 100))
  assert.deepEqual(
    await readAll(archives, 3, 0, 20_000_000, 333),
    events.map((e) => e.id),
  )
  // Retention cuts at the first event archived at or after the cutoff.
  await archives.purge(3, 1000 + 600)
  assert.deepEqual(
    await readAll(archives, 3, 0, 20_000_000, 64),
    events.slice(600).map((e) => e.id),
  )
})

test('a retried append archives nothing twice', async () => {
  const { jobs, archives } = await node()
  const [a, b] = [event('a', 1000), event('b', 2000)]
  const archived = [
    { archive: 5, event: 0, time: 1000 },
    { archive: 5, event: 1, time: 2000 },
    { archive: 6, event: 1, time: 2000 },
  ]
  await jobs.append([a, b], [], { archived })
  const once = await archives.stats(5)
  // The answer was lost; the caller appends again.
  await jobs.append([a, b], [], { archived })
  assert.deepEqual(await archives.stats(5), once)
  assert.deepEqual(await readAll(archives, 5, 0, 10_000, 10), ['a', 'b'])
  assert.deepEqual(await readAll(archives, 6, 0, 10_000, 10), ['b'])
})

test('two nodes: one archives, the other reads, purges and drops; archiving goes on after a drop elsewhere', async () => {
  const a = await node()
  const b = await node()
  const events = Array.from({ length: 5 }, (_, i) => event(`e-${String(i)}`, 1000 + i))
  await a.jobs.append(events.slice(0, 3), [], {
    archived: [0, 1, 2].map((i) => ({ archive: 4, event: i, time: i })),
  })
  await b.jobs.append(events.slice(3), [], {
    archived: [0, 1].map((i) => ({ archive: 4, event: i, time: 3 + i })),
  })
  const all = events.map((e) => e.id)
  assert.deepEqual(await readAll(b.archives, 4, 0, 10, 2), all)
  assert.deepEqual(await readAll(a.archives, 4, 0, 10, 2), all)
  await b.archives.purge(4, 1002)
  assert.deepEqual(await readAll(a.archives, 4, 0, 10, 2), all.slice(2))
  await b.archives.drop(4)
  assert.deepEqual(await a.archives.stats(4), { eventCount: 0, sizeBytes: 0 })
  // Node a created the stream and still takes it for there; its next append makes it again.
  const late = event('late', 9000)
  await a.jobs.append([late], [], { archived: [{ archive: 4, event: 0, time: 9 }] })
  assert.deepEqual(await readAll(b.archives, 4, 0, 10, 2), ['late'])
})

test('archived events survive a restart of nats-server', async () => {
  const { jobs, archives } = await node()
  const events = Array.from({ length: 20 }, (_, i) => event(`e-${String(i)}`, 1000 + i))
  await jobs.append(events, [], {
    archived: events.map((_, i) => ({ archive: 2, event: i, time: 100 + i })),
  })
  const before = await archives.page(2, 0, 1000, undefined, 100)
  for (const s of stores) s.close()
  for (const nc of connections) await nc.close()
  connections = []
  stores = []
  const { port, storeDir } = server
  await server.stop()
  server = await startNatsServer({ port, storeDir })
  const again = await node()
  assert.deepEqual(await again.archives.page(2, 0, 1000, undefined, 100), before)
  assert.equal(before.length, 20)
  const info = await (await jetstreamManager(again.nc)).streams.info(archiveStream(2))
  assert.equal(info.config.storage, 'file')
  assert.equal(info.state.messages, 20)
})

test('a replay reads the archive a page at a time in arrival order, and resumes after its cursor', async () => {
  const { jobs, archives } = await node()
  const events = Array.from({ length: 450 }, (_, i) => ({
    ...event(`r-${String(i)}`, 1000 + i),
    text: `{"version":"0","id":"r-${String(i)}","resources":[],"detail":{}}`,
  }))
  // Times fall as events arrive: SQLite would replay them last to first.
  await jobs.append(events, [], {
    archived: events.map((_, i) => ({ archive: 11, event: i, time: 10_000 - i })),
  })
  const config = createMemoryStore().config
  const registry = await Registry.load(config, () => 0)
  const scope = { account: '111111111111', region: 'us-east-1' }
  const bus = registry.bus(scope, 'default')!
  const sent: string[] = []
  let replays: Replays | undefined
  // Commits a page's progress as ingest does; the first node stops after its first page.
  const ingest = {
    async replay(routed: { event: StoredEvent }[], _allows: unknown, extras: { config?: [] }) {
      sent.push(...routed.map((r) => r.event.id))
      await config.apply(extras.config ?? [])
      if (sent.length === 200) void replays?.stop()
    },
  } as unknown as Ingest
  const deps = {
    archiveKey: () => 11,
    registry,
    ingest,
    store: archives,
    config,
    clock: systemClock,
  }
  const replay: Replay = {
    ...scope,
    name: 'again',
    arn: 'arn:aws:events:us-east-1:111111111111:replay/again',
    archiveArn: 'arn:aws:events:us-east-1:111111111111:archive/a',
    destinationArn: bus.arn,
    eventStartTime: 0,
    eventEndTime: 20_000,
    state: 'STARTING',
    replayStartTime: 0,
    speed: 0,
  }
  replays = new Replays(deps)
  await replays.begin(replay)
  await replays.settled(replay.arn)
  assert.equal(sent.length, 200)
  // Another node takes over from what was committed.
  replays = new Replays(deps)
  replays.load(await config.load())
  assert.equal(replays.get(scope, 'again')?.state, 'RUNNING')
  await replays.start()
  await replays.settled(replay.arn)
  assert.equal(replays.get(scope, 'again')?.state, 'COMPLETED')
  assert.deepEqual(
    sent,
    events.map((e) => e.id),
  )
})
