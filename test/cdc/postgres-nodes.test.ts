/**
 * A PostgreSQL source where nodes share a NATS store: it runs on one node only (the holder of
 * its lease), and when that node is killed another takes the source over from the last
 * checkpoint, losing nothing. Real nats-server, PostgreSQL and `junction serve` processes.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import type { ServerProcess } from '../helpers/server.js'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { ACCOUNT, addSource, call, servers, sourceStatus, type CdcEvent } from './harness.js'

let pg: PostgresServer
let nats: NatsServer
const procs = servers()

before(async () => {
  pg = await startPostgres()
  nats = await startNatsServer()
})

after(async () => {
  await procs.cleanup()
  await nats.stop().catch(() => undefined)
  await pg.destroy()
})

const rowId = (e: CdcEvent) => (e.detail.after as { id: number }).id

/** Every change event goes to an HTTP endpoint (an API destination; NATS has no SQS queues). */
async function captureHttp(url: string, sink: HttpSink): Promise<void> {
  const conn = await call<{ ConnectionArn: string }>(url, 'AWSEvents.CreateConnection', {
    Name: 'cdc-conn',
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-k', ApiKeyValue: 'v' } },
  })
  const dest = await call<{ ApiDestinationArn: string }>(url, 'AWSEvents.CreateApiDestination', {
    Name: 'cdc-dest',
    ConnectionArn: conn.ConnectionArn,
    InvocationEndpoint: `${sink.url}/events`,
    HttpMethod: 'POST',
  })
  await call(url, 'AWSEvents.PutRule', {
    Name: 'cdc-all',
    EventPattern: JSON.stringify({ source: [{ prefix: 'junction.cdc.' }] }),
  })
  await call(url, 'AWSEvents.PutTargets', {
    Rule: 'cdc-all',
    Targets: [
      { Id: 'sink', Arn: dest.ApiDestinationArn, RoleArn: `arn:aws:iam::${ACCOUNT}:role/cdc` },
    ],
  })
}

/** What the endpoint received, once it has every row up to `n`. */
async function receivedRows(sink: HttpSink, n: number): Promise<CdcEvent[]> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const events = sink.received.map((r) => JSON.parse(r.body) as CdcEvent)
    if (new Set(events.map(rowId)).size >= n) return events
    if (Date.now() > deadline) throw new Error(`only ${String(events.length)} events arrived`)
    await sleep(200)
  }
}

/** The node whose source is streaming, once exactly one is (the others wait for the lease). */
async function leader(nodes: ServerProcess[]): Promise<ServerProcess> {
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    const states = await Promise.all(
      nodes.map((n) => sourceStatus(n.url, 'shared').then((s) => s.state)),
    )
    const streaming = nodes.filter((_, i) => states[i] === 'streaming')
    assert.ok(streaming.length <= 1, `two nodes stream one source: ${states.join(', ')}`)
    if (streaming.length === 1) return streaming[0]!
    await sleep(200)
  }
  throw new Error('no node streams the source')
}

test('one node streams the source; when it dies another resumes from the checkpoint', async () => {
  pg.sql(`CREATE TABLE shared (id int PRIMARY KEY); CREATE PUBLICATION pub_shared FOR TABLE shared`)
  const args = ['--store', 'nats', '--nats-url', nats.url]
  const nodes = [await procs.start(procs.dir(), args), await procs.start(procs.dir(), args)]
  const sink = await startHttpSink()
  await captureHttp(nodes[0]!.url, sink)
  await addSource(nodes[0]!.url, { name: 'shared', url: pg.url, publication: 'pub_shared' })
  const first = await leader(nodes)
  const other = nodes.find((n) => n !== first)!
  assert.match(String((await sourceStatus(other.url, 'shared')).error), /lease/)
  pg.sql(`DO $$ BEGIN FOR i IN 1..50 LOOP INSERT INTO shared VALUES (i); COMMIT; END LOOP; END $$`)
  await receivedRows(sink, 50)
  await first.kill()
  pg.sql(
    `DO $$ BEGIN FOR i IN 51..100 LOOP INSERT INTO shared VALUES (i); COMMIT; END LOOP; END $$`,
  )
  assert.equal(await leader([other]), other)
  const events = await receivedRows(sink, 100)
  await sink.close()
  const idOf = new Map<number, string>()
  for (const e of events) {
    const seen = idOf.get(rowId(e))
    if (seen !== undefined) assert.equal(e.id, seen)
    idOf.set(rowId(e), e.id)
  }
  assert.equal(idOf.size, 100)
})
