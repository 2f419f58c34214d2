/**
 * Two nodes sharing their configuration through a NATS key-value bucket (a nats-server of our
 * own): what one node's API changes is in force on the other without a restart, for every part
 * of the control plane the nodes keep in memory. Events, jobs and queues stay in each node's own
 * memory store here; only the configuration is shared.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { NatsConfigStore } from '../../src/store/nats/config.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { Store } from '../../src/store/ports.js'
import { createTestBus, TEST_SCOPE, type TestBus } from '../helpers/in-process.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'

let server: NatsServer
const connections: NatsConnection[] = []
const nodes: TestBus[] = []

before(async () => {
  server = await startNatsServer()
})

after(async () => {
  for (const n of nodes) await n.close(100).catch(() => undefined)
  for (const nc of connections) await nc.close().catch(() => undefined)
  await server.stop()
})

/** A node: memory store for everything but the configuration, which is in the shared bucket. */
async function node(bucket: string): Promise<TestBus> {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  const config = await NatsConfigStore.open(nc, { bucket })
  const local = createMemoryStore()
  const store: Store = {
    ...local,
    config,
    async close() {
      config.close()
      await local.close()
    },
  }
  const bus = await createTestBus({ openedStore: store })
  nodes.push(bus)
  return bus
}

/** Polls `check` until it holds; how long that took (ms). */
async function within(what: string, check: () => Promise<boolean>, ms = 5000): Promise<number> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) assert.fail(`not within ${String(ms)} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
  return Date.now() - start
}

const ruleNames = async (bus: TestBus) =>
  ((await bus.call('ListRules', {})).Rules as { Name: string; State: string }[]).map(
    (r) => `${r.Name} ${r.State}`,
  )

test('a rule put on one node routes events on the other; disabling and deleting it too', async (t) => {
  const a = await node('shared-config-rules')
  const b = await node('shared-config-rules')
  const inbox = await b.queues.create(TEST_SCOPE, 'inbox', {}, {})

  await a.call('PutRule', {
    Name: 'big-orders',
    EventPattern: JSON.stringify({
      source: ['shop'],
      detail: { amount: [{ numeric: ['>', 100] }] },
    }),
  })
  await a.call('PutTargets', { Rule: 'big-orders', Targets: [{ Id: 'inbox', Arn: inbox.arn }] })
  const took = await within(
    'B routing with the rule A put',
    async () =>
      (await b.call('ListTargetsByRule', { Rule: 'big-orders' })).Targets !== undefined &&
      ((await b.call('ListTargetsByRule', { Rule: 'big-orders' })).Targets as unknown[]).length ===
        1,
  )
  t.diagnostic(`B had A's rule and target ${String(took)} ms after A answered`)
  assert.deepEqual(await ruleNames(b), ['big-orders ENABLED'])

  const put = (amount: number) =>
    b.call('PutEvents', {
      Entries: [{ Source: 'shop', DetailType: 'order', Detail: JSON.stringify({ amount }) }],
    })
  await put(250)
  await put(50)
  let bodies: string[] = []
  await within('the matching event in B’s queue', async () => {
    bodies.push(...(await b.queues.receive(inbox, { max: 10 })).map((m) => m.body))
    return bodies.length > 0
  })
  assert.equal(bodies.length, 1)
  assert.equal((JSON.parse(bodies[0]!) as { detail: { amount: number } }).detail.amount, 250)

  // Disabled on A: B stops routing with it.
  await a.call('DisableRule', { Name: 'big-orders' })
  await within('B seeing the rule disabled', async () =>
    (await ruleNames(b)).includes('big-orders DISABLED'),
  )
  await put(999)
  await put(250)
  await new Promise((r) => setTimeout(r, 200))
  bodies = (await b.queues.receive(inbox, { max: 10 })).map((m) => m.body)
  assert.deepEqual(bodies, [], 'nothing routed by the disabled rule')

  // Deleted on A, with its targets: gone on B.
  await a.call('RemoveTargets', { Rule: 'big-orders', Ids: ['inbox'] })
  await a.call('DeleteRule', { Name: 'big-orders' })
  await within('B seeing the rule deleted', async () => (await ruleNames(b)).length === 0)
  await assert.rejects(b.call('DescribeRule', { Name: 'big-orders' }), /does not exist/)
})

test('buses, connections, API destinations, archives and tags made on one node are seen on the other', async () => {
  const a = await node('shared-config-all')
  const b = await node('shared-config-all')
  const { EventBusArn } = (await a.call('CreateEventBus', { Name: 'orders' })) as {
    EventBusArn: string
  }
  await a.call('TagResource', { ResourceARN: EventBusArn, Tags: [{ Key: 'team', Value: 'shop' }] })
  const { ConnectionArn } = (await a.call('CreateConnection', {
    Name: 'hooks',
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'secret' } },
  })) as { ConnectionArn: string }
  await a.call('CreateApiDestination', {
    Name: 'hook',
    ConnectionArn,
    InvocationEndpoint: 'https://hooks.example.com/in',
    HttpMethod: 'POST',
  })
  await a.call('CreateArchive', { ArchiveName: 'all-orders', EventSourceArn: EventBusArn })

  await within('B seeing all of it', async () => {
    const buses = (await b.call('ListEventBuses', {})).EventBuses as { Name: string }[]
    const archives = (await b.call('ListArchives', {})).Archives as { ArchiveName: string }[]
    const dests = (await b.call('ListApiDestinations', {})).ApiDestinations as { Name: string }[]
    return (
      buses.some((x) => x.Name === 'orders') &&
      archives.some((x) => x.ArchiveName === 'all-orders') &&
      dests.some((x) => x.Name === 'hook')
    )
  })
  const tags = (await b.call('ListTagsForResource', { ResourceARN: EventBusArn })).Tags
  assert.deepEqual(tags, [{ Key: 'team', Value: 'shop' }])
  const conn = await b.call('DescribeConnection', { Name: 'hooks' })
  assert.equal(conn.ConnectionArn, ConnectionArn)
  // The archive's managed rule came with it.
  const rules = (await b.call('ListRules', { EventBusName: 'orders' })).Rules as { Name: string }[]
  assert.equal(rules.length, 1)
  assert.match(rules[0]!.Name, /^Events-Archive-all-orders/)

  // And back: B deletes the bus's archive and A sees it go, managed rule included.
  await b.call('DeleteArchive', { ArchiveName: 'all-orders' })
  await within('A seeing the archive and its rule gone', async () => {
    const archives = (await a.call('ListArchives', {})).Archives as unknown[]
    const left = (await a.call('ListRules', { EventBusName: 'orders' })).Rules as unknown[]
    return archives.length === 0 && left.length === 0
  })
})
