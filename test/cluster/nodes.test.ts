/**
 * Distributed mode end to end: `junction serve --store nats` processes sharing a nats-server of
 * our own. Any node answers any call; a rule made on one routes events put on another; every
 * event that got an EventId is delivered at least once when a node is killed under load (its
 * jobs go to the others after the ack wait); while NATS is down the nodes answer 503 (which the
 * SDKs retry) instead of accepting what they cannot store, and they recover by themselves.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  call,
  closeEventLoad,
  configure,
  HttpError,
  report,
  runLoad,
  SOURCE,
  startSink,
} from '../helpers/event-load.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

let nats: NatsServer
const nodes: ServerProcess[] = []
const dirs: string[] = []

before(async () => {
  nats = await startNatsServer()
})

after(async () => {
  const loads = closeEventLoad()
  for (const n of nodes)
    if (n.child.exitCode === null && n.child.signalCode === null) await n.kill()
  await loads
  await nats.stop().catch(() => undefined)
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function node(ackWait = '3s'): Promise<ServerProcess> {
  const dir = tempDir('junction-node-')
  dirs.push(dir)
  const n = await startServerProcess({
    dataDir: dir,
    args: ['--store', 'nats', '--nats-url', nats.url, '--nats-ack-wait', ackWait],
  })
  nodes.push(n)
  return n
}

/** Restarts the shared nats-server between tests so each starts from empty streams. */
async function freshNats(): Promise<void> {
  for (const n of nodes.splice(0))
    if (n.child.exitCode === null && n.child.signalCode === null) await n.stop()
  await nats.stop()
  nats = await startNatsServer()
}

test('two nodes: a rule made on one routes what is put on either; each event delivered once', async (t) => {
  await freshNats()
  const a = await node()
  const b = await node()
  const sink = await startSink()
  await configure(a.url, sink.url)
  // In force on B within a second of A's answer.
  const rules = async () => ((await call(b.url, 'ListRules', {})).Rules as unknown[]).length
  const start = Date.now()
  while ((await rules()) !== 1) {
    assert.ok(Date.now() - start < 5000, 'B never saw the rule A made')
    await sleep(10)
  }
  t.diagnostic(`B saw A's rule after ${String(Date.now() - start)} ms`)

  const load = runLoad([a.url, b.url], 4)
  await sleep(2000)
  await load.stop()
  assert.equal(load.unacked.size, 0, `requests failed: ${JSON.stringify([...load.failures])}`)
  const missing = await sink.waitForDelivered(load.acked.keys(), 30_000)
  assert.deepEqual(missing, [], 'acknowledged events never delivered')
  const twice = [...load.acked.keys()].filter((id) => (sink.counts.get(id) ?? 0) > 1).length
  report(t, 'two nodes', { acknowledged: load.acked.size, deliveredTwice: twice })
  assert.equal(twice, 0, 'with no node failing, no event is delivered twice')
})

test('kill -9 of one node of three under load: every acknowledged event is delivered', async (t) => {
  await freshNats()
  const [a, b, c] = [await node(), await node(), await node()]
  // The sink holds each delivery a while, so that the killed node dies holding jobs.
  const sink = await startSink({ delayMs: 200 })
  await configure(a.url, sink.url)
  await sleep(300)
  const load = runLoad([a.url, b.url, c.url], 6)
  await sleep(1500)
  await b.kill()
  await sleep(1500)
  await load.stop()
  const missing = await sink.waitForDelivered(load.acked.keys(), 60_000)
  const twice = [...load.acked.keys()].filter((id) => (sink.counts.get(id) ?? 0) > 1).length
  report(t, 'kill -9 of one node', {
    acknowledged: load.acked.size,
    requestsWithoutAnswer: load.unacked.size / 10,
    failures: Object.fromEntries(load.failures),
    deliveredTwice: twice,
    missing: missing.length,
  })
  assert.deepEqual(missing, [], 'acknowledged events lost with the node')
})

test('NATS down: the nodes answer 503 and recover by themselves when it returns', async (t) => {
  await freshNats()
  const a = await node()
  const sink = await startSink()
  await configure(a.url, sink.url)
  const put = (seq: number) =>
    call(a.url, 'PutEvents', {
      Entries: [{ Source: SOURCE, DetailType: 'crash', Detail: JSON.stringify({ seq }) }],
    })
  const before = ((await put(1)).Entries as { EventId: string }[])[0]!.EventId

  await nats.stop()
  // Within a few seconds every call is refused with a status the SDKs retry.
  let refused: HttpError | undefined
  const start = Date.now()
  while (!refused) {
    assert.ok(Date.now() - start < 15_000, 'PutEvents kept answering 200 with NATS down')
    try {
      await put(2)
    } catch (e) {
      if (e instanceof HttpError) refused = e
      else throw e
    }
    await sleep(50)
  }
  t.diagnostic(`refused after ${String(Date.now() - start)} ms: ${refused.status} ${refused.body}`)
  assert.ok(refused.status >= 500, `a retryable status, not ${String(refused.status)}`)
  const health = await fetch(`${a.url}/health`)
  assert.equal(health.status, 503)
  // Once the node knows NATS is gone, it refuses at once with ServiceUnavailable.
  await assert.rejects(put(2), (e: unknown) => {
    assert.ok(e instanceof HttpError)
    assert.equal(e.status, 503)
    assert.match(e.body, /"__type":"ServiceUnavailable".*out of reach/)
    return true
  })

  nats = await startNatsServer({ port: nats.port, storeDir: nats.storeDir })
  const back = Date.now()
  let after: string | undefined
  while (!after) {
    assert.ok(Date.now() - back < 30_000, 'the node never recovered')
    try {
      after = ((await put(3)).Entries as { EventId: string }[])[0]!.EventId
    } catch {
      await sleep(100)
    }
  }
  t.diagnostic(`answering again ${String(Date.now() - back)} ms after NATS returned`)
  assert.deepEqual(await sink.waitForDelivered([before, after], 30_000), [])
})
