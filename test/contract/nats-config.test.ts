/**
 * The configuration store on NATS (a key-value bucket), against a nats-server of our own: what
 * it stores reads back after a reopen, several operations apply as one (an interrupted apply is
 * finished by the next start), and every other store on the bucket is told of each change once,
 * in order, never of its own writes, and never so that an older write undoes a newer one.
 */
import { Kvm, type KV } from '@nats-io/kv'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { ConfigEntry, ConfigOp } from '../../src/store/ports.js'
import {
  configKey,
  NatsConfigStore,
  parseConfigKey,
  STALE_INTENT_MS,
} from '../../src/store/nats/config.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'

let server: NatsServer
const connections: NatsConnection[] = []
const stores: NatsConfigStore[] = []
let bucketSeq = 0

before(async () => {
  server = await startNatsServer()
})

after(async () => {
  for (const s of stores) s.close()
  for (const nc of connections) await nc.close().catch(() => undefined)
  await server.stop()
})

async function bucket(name: string): Promise<KV> {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  return new Kvm(nc).create(name, { history: 1 })
}

/** A store on its own connection (as another node would have). */
async function openStore(name: string, now?: () => number): Promise<NatsConfigStore> {
  const s = new NatsConfigStore(await bucket(name), now ? { now } : {})
  stores.push(s)
  return s
}

const freshBucket = () => `config-test-${String(++bucketSeq)}`

const RULE = 'arn:aws:events:us-east-1:111111111111:rule/orders/on-created'
const RULE_2 = 'arn:aws:events:us-east-1:111111111111:rule/orders/on-shipped'

const byKey = (entries: ConfigEntry[]) =>
  Object.fromEntries(entries.map((e) => [`${e.kind} ${e.key}`, e.doc]))

/** Waits until `check` holds, failing with `what` after `ms`. */
async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('bucket keys carry any ARN or name and read back to the same kind and key', () => {
  for (const key of [RULE, 'a/b c:d', 'ü\u{1F600}', '000000000000/us-east-1/stack']) {
    const k = configKey('rule', key)
    assert.match(k, /^[-/_=.a-zA-Z0-9]+$/, 'a key the bucket accepts')
    assert.deepEqual(parseConfigKey(k), { kind: 'rule', key })
  }
  assert.equal(parseConfigKey('_intent.x'), undefined)
  assert.equal(parseConfigKey('unknown.YQ'), undefined)
})

test('what is applied reads back from another connection, deletes included', async () => {
  const name = freshBucket()
  const a = await openStore(name)
  assert.deepEqual(await a.load(), [])
  await a.apply([
    { op: 'put', kind: 'rule', key: RULE, doc: { name: 'on-created', n: 1 } },
    { op: 'put', kind: 'targets', key: RULE, doc: [{ id: 't1' }] },
    { op: 'put', kind: 'rule', key: RULE_2, doc: { name: 'on-shipped' } },
  ])
  await a.apply([{ op: 'delete', kind: 'rule', key: RULE_2 }])
  await a.apply([{ op: 'put', kind: 'rule', key: RULE, doc: { name: 'on-created', n: 2 } }])
  const b = await openStore(name)
  assert.deepEqual(byKey(await b.load()), {
    [`rule ${RULE}`]: { name: 'on-created', n: 2 },
    [`targets ${RULE}`]: [{ id: 't1' }],
  })
  // The intent that made the first apply atomic is gone once it finished.
  const keys: string[] = []
  for await (const k of await (await bucket(name)).keys()) keys.push(k)
  assert.deepEqual(
    keys.filter((k) => k.startsWith('_intent')),
    [],
  )
})

test('other stores are told of each change once, in order; a store never of its own writes', async () => {
  const name = freshBucket()
  const a = await openStore(name)
  const b = await openStore(name)
  await a.load()
  await b.load()
  const seenByA: ConfigOp[] = []
  const seenByB: ConfigOp[] = []
  a.watch((op) => seenByA.push(op))
  b.watch((op) => seenByB.push(op))
  await a.apply([{ op: 'put', kind: 'bus', key: 'bus-1', doc: { v: 1 } }])
  await a.apply([
    { op: 'put', kind: 'rule', key: RULE, doc: { v: 1 } },
    { op: 'put', kind: 'targets', key: RULE, doc: [{ id: 't' }] },
  ])
  await a.apply([{ op: 'put', kind: 'bus', key: 'bus-1', doc: { v: 2 } }])
  await a.apply([{ op: 'delete', kind: 'targets', key: RULE }])
  await until(() => seenByB.length >= 5, "B hearing of A's five changes")
  assert.deepEqual(seenByB, [
    { op: 'put', kind: 'bus', key: 'bus-1', doc: { v: 1 } },
    { op: 'put', kind: 'rule', key: RULE, doc: { v: 1 } },
    { op: 'put', kind: 'targets', key: RULE, doc: [{ id: 't' }] },
    { op: 'put', kind: 'bus', key: 'bus-1', doc: { v: 2 } },
    { op: 'delete', kind: 'targets', key: RULE },
  ])
  // A's own changes never come back to it.
  await new Promise((r) => setTimeout(r, 200))
  assert.deepEqual(seenByA, [])
})

test('an older write never undoes a newer one, on either side', async () => {
  const name = freshBucket()
  const a = await openStore(name)
  const b = await openStore(name)
  await a.load()
  await b.load()
  // Each side's view: what it wrote itself, then what it was told.
  const viewA = new Map<string, unknown>()
  const viewB = new Map<string, unknown>()
  const fold = (view: Map<string, unknown>) => (op: ConfigOp) => {
    if (op.op === 'put') view.set(op.key, op.doc)
    else view.delete(op.key)
  }
  a.watch(fold(viewA))
  b.watch(fold(viewB))
  const writes: Promise<void>[] = []
  for (let i = 0; i < 50; i++) {
    const [store, view] = i % 2 === 0 ? [a, viewA] : [b, viewB]
    const doc = { i }
    writes.push(
      store.apply([{ op: 'put', kind: 'rule', key: RULE, doc }]).then(() => {
        view.set(RULE, doc)
      }),
    )
  }
  await Promise.all(writes)
  const last = await openStore(name)
  const [final] = await last.load()
  assert.ok(final)
  await until(
    () =>
      JSON.stringify(viewA.get(RULE)) === JSON.stringify(final.doc) &&
      JSON.stringify(viewB.get(RULE)) === JSON.stringify(final.doc),
    `both sides ending with the bucket's last write ${JSON.stringify(final.doc)}: A has ${JSON.stringify(viewA.get(RULE))}, B ${JSON.stringify(viewB.get(RULE))}`,
  )
})

test('an apply interrupted midway is finished by the next start', async () => {
  const name = freshBucket()
  const kv = await bucket(name)
  // A writer that died after recording its intent and writing one of three keys.
  const ops: ConfigOp[] = [
    { op: 'delete', kind: 'rule', key: RULE },
    { op: 'delete', kind: 'targets', key: RULE },
    { op: 'delete', kind: 'tags', key: RULE },
  ]
  const stored = (d?: unknown) => JSON.stringify(d === undefined ? { o: 'dead' } : { o: 'dead', d })
  await kv.put(configKey('rule', RULE), stored({ v: 1 }))
  await kv.put(configKey('targets', RULE), stored([{ id: 't' }]))
  await kv.put(configKey('tags', RULE), stored({ team: 'a' }))
  await kv.put('_intent.dead-writer', JSON.stringify(ops))
  await kv.put(configKey('rule', RULE), stored())

  // Too recent to be a dead writer's: left alone (its writer may be finishing it).
  const early = await openStore(name)
  assert.deepEqual(Object.keys(byKey(await early.load())).sort(), [
    `tags ${RULE}`,
    `targets ${RULE}`,
  ])

  const later = await openStore(name, () => Date.now() + STALE_INTENT_MS + 1000)
  assert.deepEqual(await later.load(), [], 'the rule went with its targets and tags')
  assert.equal(await kv.get('_intent.dead-writer').then((e) => e?.operation), 'DEL')
  const again = await openStore(name)
  assert.deepEqual(await again.load(), [])
})
