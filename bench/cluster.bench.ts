/**
 * `npm run bench:cluster`: distributed mode against the raw JetStream publish rate, in one run, on
 * one nats-server of our own (JetStream, file storage). Prints figures; asserts nothing.
 *
 * 1. Baseline: the same job messages a node publishes (one per matched event, the event inside,
 *    `encodeJob`), published straight to a work-queue stream with the same number in flight as
 *    the PutEvents load has entries in flight (connections × entries per request).
 * 2. One node, then two nodes (`junction serve --store nats`, child processes), each event
 *    matching one rule whose target is an API destination on a sink in this process: PutEvents
 *    throughput (autocannon, 10 entries per request; with two nodes half the connections on
 *    each), and every acknowledged event delivered (counted at the sink).
 * 3. Put-to-delivered latency at a fixed rate (`--rate` events/s) through one node: events carry
 *    their send time; the sink notes their arrival.
 *
 * Options: `--duration S` (5), `--connections N` (16), `--rate N` (500), `--latency-seconds S` (5),
 * `--profile` (the one-node run alone, that node under `--cpu-prof`: its hottest functions).
 */
import autocannon from 'autocannon'
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { randomUUID } from 'node:crypto'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { envelopeText, envelopeTime } from '../src/engine/envelope.js'
import { encodeJob } from '../src/store/nats/codec.js'
import { call, configure, SOURCE } from '../test/helpers/event-load.js'
import { startNatsServer, type NatsServer } from '../test/helpers/nats.js'
import { startServerProcess, tempDir, type ServerProcess } from '../test/helpers/server.js'
import { cpuMs } from './process-cpu.js'
import { numberArg as arg } from './args.js'
import { summarizeProfile } from './cpu-profile.js'

const duration = arg('duration', 5)
const connections = arg('connections', 16)
const rate = arg('rate', 500)
const latencySeconds = arg('latency-seconds', 5)
const profile = process.argv.includes('--profile')
const ENTRIES = 10
const ACCOUNT = '111111111111'
const HEADERS = {
  authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=x`,
  'content-type': 'application/x-amz-json-1.1',
  'x-amz-target': 'AWSEvents.PutEvents',
}
const DETAIL = { kind: 'order', orderId: 'o-1001', total: 44.47, currency: 'EUR', items: [1, 2] }
const PUT_BODY = JSON.stringify({
  Entries: Array.from({ length: ENTRIES }, () => ({
    Source: SOURCE,
    DetailType: 'crash',
    Detail: JSON.stringify(DETAIL),
  })),
})

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const perEvent = (ms: number, n: number) => `${((ms * 1000) / Math.max(1, n)).toFixed(0)} µs`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** The sink: counts deliveries, and notes put-to-delivered times of events that carry `sentAt`. */
async function startSink() {
  const state = { delivered: 0, latencies: [] as number[] }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      state.delivered++
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { detail?: { sentAt?: number } }
      const sentAt = body.detail?.sentAt
      if (typeof sentAt === 'number')
        state.latencies.push(performance.timeOrigin + performance.now() - sentAt)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  return { url, state, close: () => new Promise<void>((r) => server.close(() => r())) }
}

/** Raw JetStream: job messages of the same shape, `inFlight` publishes outstanding at once. */
async function rawPublishRate(
  nats: NatsServer,
  seconds: number,
  inFlight: number,
): Promise<number> {
  const nc = await connect({ servers: nats.url })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({
    name: 'BENCH_RAW',
    subjects: ['bench.raw.>'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
  })
  const js = jetstream(nc)
  const now = Date.now()
  const text = envelopeText({
    id: randomUUID(),
    detailType: 'crash',
    source: SOURCE,
    account: ACCOUNT,
    time: envelopeTime(now),
    region: 'us-east-1',
    resources: [],
    detailText: JSON.stringify(DETAIL),
  })
  let published = 0
  const end = performance.now() + seconds * 1000
  const worker = async () => {
    while (performance.now() < end) {
      const id = randomUUID()
      const job = {
        id: published,
        eventId: id,
        busArn: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`,
        ruleArn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/crash-rule`,
        targetId: 'sink',
        attempts: 0,
        dueAt: now,
      }
      const event = { id, busArn: job.busArn, text, ingestedAt: now, hops: 0 }
      await js.publish('bench.raw.x', encodeJob(job, event), {
        msgID: `${id} ${job.ruleArn} sink 0`,
      })
      published++
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: inFlight }, worker))
  const rateOut = published / ((performance.now() - start) / 1000)
  await jsm.streams.delete('BENCH_RAW')
  await nc.close()
  return rateOut
}

async function putLoad(urls: string[], seconds: number) {
  const results = await Promise.all(
    urls.map((url) =>
      autocannon({
        url,
        connections: Math.max(1, Math.floor(connections / urls.length)),
        duration: seconds,
        method: 'POST',
        headers: HEADERS,
        body: PUT_BODY,
        verifyBody: (b) => b.startsWith('{"FailedEntryCount":0,'),
      }),
    ),
  )
  const ok = results.reduce((n, r) => n + r['2xx'] - r.mismatches, 0)
  const secs = Math.max(...results.map((r) => r.duration))
  return {
    eventsPerSec: (ok * ENTRIES) / secs,
    events: ok * ENTRIES,
    errors: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
  }
}

async function main() {
  const nats = await startNatsServer()
  const dirs: string[] = []
  const nodes: ServerProcess[] = []
  const sink = await startSink()
  const profileDir = profile ? tempDir('junction-bench-prof-') : undefined
  const node = async () => {
    const dir = tempDir('junction-bench-node-')
    dirs.push(dir)
    const n = await startServerProcess({
      dataDir: dir,
      args: ['--store', 'nats', '--nats-url', nats.url],
      ...(profileDir && nodes.length === 0
        ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] }
        : {}),
    })
    nodes.push(n)
    return n
  }
  try {
    console.log(
      `bench:cluster: nats-server ${nats.url}, ${String(connections)} connections × ${String(ENTRIES)} entries, ${String(duration)} s each`,
    )
    const rawCpu = { self: process.cpuUsage(), nats: cpuMs(nats.child.pid) }
    const raw = await rawPublishRate(nats, duration, connections * ENTRIES)
    const rawMsgs = raw * duration
    const selfUsed = process.cpuUsage(rawCpu.self)
    console.log(
      `raw JetStream publish (${String(connections * ENTRIES)} in flight): ${fmt(raw)} msgs/s; CPU per message: publisher ${perEvent((selfUsed.user + selfUsed.system) / 1000, rawMsgs)}, nats-server ${perEvent(cpuMs(nats.child.pid) - rawCpu.nats, rawMsgs)}`,
    )

    const a = await node()
    await configure(a.url, sink.url)
    await sleep(500)
    await putLoad([a.url], 1) // warm-up
    const drain = async (expected: number) => {
      const start = performance.now()
      while (sink.state.delivered < expected && performance.now() - start < 120_000) await sleep(20)
      return (performance.now() - start) / 1000
    }
    await drain(sink.state.delivered)
    let base = sink.state.delivered
    const cpuBefore = { node: cpuMs(a.child.pid), nats: cpuMs(nats.child.pid) }
    const one = await putLoad([a.url], duration)
    const oneDrain = await drain(base + one.events)
    console.log(
      `one node:  PutEvents ${fmt(one.eventsPerSec)} events/s (${(one.eventsPerSec / raw).toFixed(2)} of raw), errors ${String(one.errors)}; all delivered ${oneDrain.toFixed(1)} s after the load (${fmt(sink.state.delivered - base)} of ${fmt(one.events)})`,
    )
    console.log(
      `           CPU per event, put and delivered: node ${perEvent(cpuMs(a.child.pid) - cpuBefore.node, one.events)}, nats-server ${perEvent(cpuMs(nats.child.pid) - cpuBefore.nats, one.events)}`,
    )

    if (profileDir) {
      await a.stop()
      for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile')))
        for (const line of summarizeProfile(join(profileDir, f), 30)) console.log(line)
      return
    }
    const b = await node()
    await sleep(1000)
    base = sink.state.delivered
    const two = await putLoad([a.url, b.url], duration)
    const twoDrain = await drain(base + two.events)
    console.log(
      `two nodes: PutEvents ${fmt(two.eventsPerSec)} events/s (${(two.eventsPerSec / raw).toFixed(2)} of raw, ${(two.eventsPerSec / one.eventsPerSec).toFixed(2)}× one node), errors ${String(two.errors)}; all delivered ${twoDrain.toFixed(1)} s after (${fmt(sink.state.delivered - base)} of ${fmt(two.events)})`,
    )

    // Put-to-delivered at a fixed rate through one node.
    sink.state.latencies = []
    const total = rate * latencySeconds
    const interval = 1000 / (rate / ENTRIES)
    const startAt = performance.now()
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < total / ENTRIES; i++) {
      const due = startAt + i * interval
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      const sentAt = performance.timeOrigin + performance.now()
      sends.push(
        call(a.url, 'PutEvents', {
          Entries: Array.from({ length: ENTRIES }, () => ({
            Source: SOURCE,
            DetailType: 'crash',
            Detail: JSON.stringify({ ...DETAIL, sentAt }),
          })),
        }),
      )
    }
    await Promise.all(sends)
    const wait = performance.now()
    while (sink.state.latencies.length < total && performance.now() - wait < 60_000) await sleep(20)
    const l = [...sink.state.latencies].sort((x, y) => x - y)
    console.log(
      `put-to-delivered at ${fmt(rate)} events/s through one node: p50 ${pct(l, 0.5).toFixed(1)} ms, p99 ${pct(l, 0.99).toFixed(1)} ms, max ${pct(l, 1).toFixed(1)} ms (${fmt(l.length)} events)`,
    )
  } finally {
    for (const n of nodes) await n.stop()
    await sink.close()
    await nats.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

await main()
