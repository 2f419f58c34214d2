/**
 * `npm run bench:ingest`: the durable write path, end to end, against baselines measured in the
 * same run. Prints figures; asserts nothing.
 *
 * 1. PutEvents throughput: autocannon (in this process) against `junction serve` in a child
 *    process on a fresh SQLite store: sync FULL, sync NORMAL, and FULL without a target; 10
 *    entries per request, two rules (one matching none, one matching 1 entry in 10, whose target
 *    is an API destination on a sink child). A preloaded probe (`commit-probe.ts`) reports what
 *    group commit did, the share of time inside SQLite transactions, and CPU time per request.
 * 2. Baselines: (a) a bare node:http child answering the same requests with a PutEvents-shaped
 *    response under the same load; (b) raw better-sqlite3 inserts of the same rows (schema of
 *    `src/store/sqlite/migrations.ts`, WAL, FULL and NORMAL) in batches of one request's 10
 *    events, of the mean batch group commit saw in (1), and of 32 requests.
 * 3. Put-to-delivered latency at a fixed rate (1,000 events/s, then a tenth of it): events carry
 *    their send time (`performance.now()`) in Detail; an API-destination target delivers them to
 *    a sink child, which records their arrival as epoch ms (`performance.timeOrigin + now()`).
 *
 * Options: `--duration S` (5), `--warmup S` (1), `--connections N` (32), `--latency-seconds S`
 * (10), `--rate N` events/s in (3) (1000), `--deliveries N` (20,000), `--delivery-concurrency N`
 * (256), `--profile` (run the measured server children under `--cpu-prof` and print their
 * hottest functions), `--only delivery` or `--only latency` (that part alone).
 */
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { envelopeText, envelopeTime } from '../src/engine/envelope.js'
import { MIGRATIONS } from '../src/store/sqlite/migrations.js'
import { breakdownProfile, summarizeProfile, type Category } from './cpu-profile.js'
import { numberArg as arg } from './args.js'
import { SERVE_NODE_OPTIONS } from '../src/cli/node-options.js'

const duration = arg('duration', 5)
const warmup = arg('warmup', 1)
const connections = arg('connections', 32)
const latencySeconds = arg('latency-seconds', 10)
const latencyRate = arg('rate', 1000)
const deliveries = arg('deliveries', 20_000)
const deliveryConcurrency = arg('delivery-concurrency', 256)
const profile = process.argv.includes('--profile')
/** `--only delivery` or `--only latency`: that part alone. */
const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1]
  : undefined
/** `--latency-sync normal`: measure put-to-delivered with sync NORMAL (crash-safe, no fsync per commit). */
const latencySync: 'full' | 'normal' =
  process.argv[process.argv.indexOf('--latency-sync') + 1] === 'normal' &&
  process.argv.includes('--latency-sync')
    ? 'normal'
    : 'full'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`
const ENTRIES = 10
const HEADERS = {
  authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/events/aws4_request, SignedHeaders=host, Signature=x`,
  'content-type': 'application/x-amz-json-1.1',
}
const PUT_HEADERS = { ...HEADERS, 'x-amz-target': 'AWSEvents.PutEvents' }

/** Entry `i` of a request: only entry 0 is an order, so the rule on orders matches 1 in 10. */
function detail(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...extra,
    kind: i === 0 ? 'order' : 'view',
    orderId: `o-${String(1000 + i)}`,
    customer: { id: `c-${String(i * 7)}`, tier: i % 3 === 0 ? 'gold' : 'standard', country: 'DE' },
    items: [
      { sku: 'sku-1', qty: 1 + (i % 3), price: 9.99 },
      { sku: 'sku-2', qty: 1, price: 24.5 },
    ],
    total: 44.47,
    currency: 'EUR',
  }
}
const SOURCE = 'bench.ingest'
const DETAIL_TYPE = 'Order Placed'
const PUT_BODY = JSON.stringify({
  Entries: Array.from({ length: ENTRIES }, (_, i) => ({
    Source: SOURCE,
    DetailType: DETAIL_TYPE,
    Detail: JSON.stringify(detail(i)),
  })),
})
const RULES = [
  // Same source, a value no event has: evaluated for every event, never matches.
  { name: 'bench-none', pattern: { source: [SOURCE], detail: { kind: ['refund'] } } },
  { name: 'bench-some', pattern: { source: [SOURCE], detail: { kind: ['order'] } }, deliver: true },
]

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const ms = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1))
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t))
const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix))
const began = performance.now()

// ---------------------------------------------------------------------------------------------
// Child processes

type Child = {
  url: string
  proc: ChildProcess
  stdout: () => string
  stderr: () => string
  stop: () => Promise<void>
}
const running = new Set<Child>()

/** Spawns `node ARGS` in the repository and waits for `"url":"…"` on its stdout. */
async function startChild(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
  const exited = new Promise<void>((res) => proc.once('exit', () => res()))
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`child did not start:\n${out}${err}`)), 30_000)
    proc.stdout.on('data', () => {
      const m = /"url":"(http:[^"]+)"/.exec(out)
      if (m) {
        clearTimeout(timer)
        res(m[1]!)
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      rej(new Error(`child exited before listening:\n${out}${err}`))
    })
  })
  let stopped: Promise<void> | undefined
  const child: Child = {
    url,
    proc,
    stdout: () => out,
    stderr: () => err,
    stop() {
      running.delete(child)
      stopped ??= (async () => {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
        await exited
        clearTimeout(timer)
      })()
      return stopped
    },
  }
  running.add(child)
  return child
}

const PROBE = ['--import', pathToFileURL(join(repoRoot, 'bench/commit-probe.ts')).href]

/** The bare baseline carries the probe too, for its CPU time and event-loop figures. */
const startPeer = (mode: 'bare' | 'sink') =>
  startChild(['--import', 'tsx', ...PROBE, join(repoRoot, 'bench/ingest-peer.ts'), mode])

/**
 * `junction serve` on `dataDir` with the probe; with `--profile` and a `profileAs` label, under
 * `--cpu-prof`, its profile summarised once it has stopped (see {@link printProfile}).
 */
async function startJunction(
  dataDir: string,
  sync: 'full' | 'normal',
  profileAs?: string,
): Promise<Child & { profileDir?: string; profileAs?: string }> {
  const profileDir = profile && profileAs ? tempDir('junction-prof-') : undefined
  const child = await startChild([
    ...SERVE_NODE_OPTIONS,
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    '--import',
    'tsx',
    ...PROBE,
    join(repoRoot, 'src/cli/main.ts'),
    'serve',
    '--port',
    '0',
    '--data',
    dataDir,
    '--sync',
    sync,
    '--log-level',
    'info',
  ])
  return profileDir ? { ...child, profileDir, profileAs: profileAs! } : child
}

/** Prints the hottest functions of a stopped server started with a `profileAs` label. */
function printProfile(server: { profileDir?: string; profileAs?: string }): void {
  if (!server.profileDir) return
  const file = readdirSync(server.profileDir).find((f) => f.endsWith('.cpuprofile'))
  console.log(`\nCPU profile of the Junction child, ${server.profileAs ?? ''} (setup included):`)
  if (file)
    for (const line of summarizeProfile(join(server.profileDir, file), 25)) console.log(line)
  else console.log('  (no profile written)')
  console.log(`  profile kept in ${server.profileDir}`)
}

/** The stages the main thread's time is split into, most specific first (see breakdownProfile). */
const STAGES: Category[] = [
  {
    name: 'start-up',
    test: (f) =>
      f.url.startsWith('node:internal/modules') ||
      f.url.includes('/tsx/') ||
      f.url.includes('esbuild') ||
      f.functionName === 'compileSourceTextModule',
  },
  { name: 'garbage collection', test: (f) => f.functionName === '(garbage collector)' },
  {
    name: 'delivery: dispatcher, transform, undici client',
    test: (f) =>
      f.url.includes('/src/delivery/') ||
      f.url.includes('/src/transform/') ||
      f.url.includes('undici'),
  },
  {
    name: 'store: packing, hand-off to the writer thread',
    test: (f) => f.url.includes('/src/store/') || f.functionName === 'postMessage',
  },
  { name: 'matching (pattern engine)', test: (f) => f.url.includes('/src/pattern/') },
  { name: 'envelope text', test: (f) => f.url.includes('/src/engine/envelope.ts') },
  { name: 'Detail JSON.parse and entry checks', test: (f) => f.functionName === 'checkEntry' },
  { name: 'request body JSON.parse', test: (f) => f.functionName === 'parseBody' },
  {
    name: 'request validation (wire to entries)',
    test: (f) => f.url.includes('/src/api/validate.ts') || f.url.includes('/src/api/operations/'),
  },
  { name: 'metrics (prom-client)', test: (f) => f.url.includes('prom-client') },
  {
    name: 'ingest: ids, bus lookup, routing, answer',
    test: (f) => f.url.includes('/src/engine/') || f.url.includes('/src/api/'),
  },
  {
    name: 'HTTP server (node:http, sockets)',
    test: (f) =>
      f.url.startsWith('node:_http') ||
      f.url.startsWith('node:net') ||
      f.url.startsWith('node:internal/stream') ||
      f.functionName === 'writev' ||
      f.functionName === 'writeUtf8String',
  },
  { name: 'event loop, promises, timers', test: (f) => f.url.startsWith('node:') },
]

/** Lines the server logged at warn level or above. */
const warnings = (c: Child) =>
  c
    .stdout()
    .split('\n')
    .filter((l) => /"level":(40|50|60)/.test(l))

type ProbeReport = {
  seconds: number
  commits: number
  events: number
  jobs: number
  finishes: number
  eventsPerCommit: number[]
  txnMs: number
  maxTxnMs: number
  elu: number
  cpuMs: number
  mainCpuMs: number
  loopDelayMs: number[]
}

const loopDelays = (p: ProbeReport) => p.loopDelayMs.map(ms).join('/')

/** The probe's figures since the previous call (see commit-probe.ts). */
async function probe(c: Child): Promise<ProbeReport> {
  const from = c.stderr().length
  c.proc.kill('SIGUSR2')
  for (let i = 0; i < 1000; i++) {
    const m = /PROBE (\{.*\})\n/.exec(c.stderr().slice(from))
    if (m) return JSON.parse(m[1]!) as ProbeReport
    await sleep(10)
  }
  throw new Error('the commit probe did not answer')
}

// ---------------------------------------------------------------------------------------------
// API calls and routing setup

async function api(url: string, op: string, input: object): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'x-amz-target': `AWSEvents.${op}` },
    body: JSON.stringify(input),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${op}: ${String(res.status)} ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

/** An API_KEY connection, an API destination on `endpoint` and the rules (with their target). */
async function setUpRouting(
  url: string,
  endpoint: string,
  rules: { name: string; pattern: object; deliver?: boolean }[],
): Promise<void> {
  const conn = await api(url, 'CreateConnection', {
    Name: 'bench-sink',
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'secret' } },
  })
  const dest = await api(url, 'CreateApiDestination', {
    Name: 'bench-sink',
    ConnectionArn: conn.ConnectionArn,
    InvocationEndpoint: endpoint,
    HttpMethod: 'POST',
    InvocationRateLimitPerSecond: 10000,
  })
  for (const r of rules) {
    await api(url, 'PutRule', { Name: r.name, EventPattern: JSON.stringify(r.pattern) })
    if (r.deliver)
      await api(url, 'PutTargets', {
        Rule: r.name,
        Targets: [{ Id: 'sink', Arn: dest.ApiDestinationArn }],
      })
  }
}

// ---------------------------------------------------------------------------------------------
// 1 and 2a: PutEvents under load

type Load = {
  seconds: number
  responses: number
  reqPerSec: number
  p50: number
  p99: number
  non2xx: number
  mismatches: number
  errors: number
}

/** `connections` clients sending PUT_BODY back to back for `seconds`. */
async function load(url: string, seconds: number): Promise<Load> {
  const latencies: number[] = []
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    method: 'POST',
    headers: PUT_HEADERS,
    body: PUT_BODY,
    verifyBody: (body) => body.startsWith('{"FailedEntryCount":0,'),
  })
  instance.on('response', (_client: unknown, _status: number, _bytes: number, took: number) => {
    latencies.push(took)
  })
  const r = await instance
  latencies.sort((a, b) => a - b)
  return {
    seconds: r.duration,
    responses: latencies.length,
    reqPerSec: latencies.length / r.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    non2xx: r.non2xx,
    mismatches: r.mismatches,
    errors: r.errors + r.timeouts,
  }
}

type Measured = Load & { probe: ProbeReport }

/** A warm-up, then the measured load, with the server's probe figures for the measured part. */
async function measure(server: Child): Promise<Measured> {
  await load(server.url, warmup)
  await probe(server)
  const result = await load(server.url, duration)
  return { ...result, probe: await probe(server) }
}

async function sinkCount(sink: Child): Promise<number> {
  return Number(await (await fetch(`${sink.url}/count`)).text())
}

type JunctionRun = Measured & {
  delivered: number
  warnings: string[]
  /** With `--profile`: share of the main thread's busy time per stage. */
  stages?: Map<string, number>
}

/** Junction under load; `deliver: false` leaves the matching rule without a target. */
async function junctionRun(
  sync: 'full' | 'normal',
  sink: Child,
  deliver = true,
): Promise<JunctionRun> {
  const dataDir = tempDir('junction-bench-')
  const server = await startJunction(
    dataDir,
    sync,
    sync === 'full' && deliver ? 'PutEvents throughput, sync FULL' : undefined,
  )
  try {
    await setUpRouting(
      server.url,
      `${sink.url}/deliver`,
      RULES.map((r) => ({ ...r, deliver: deliver && r.deliver === true })),
    )
    const before = await sinkCount(sink)
    const result = await measure(server)
    const delivered = (await sinkCount(sink)) - before
    await server.stop()
    printProfile(server)
    const file = server.profileDir
      ? readdirSync(server.profileDir).find((f) => f.endsWith('.cpuprofile'))
      : undefined
    const stages = file ? breakdownProfile(join(server.profileDir!, file), STAGES) : undefined
    return { ...result, delivered, warnings: warnings(server), ...(stages ? { stages } : {}) }
  } finally {
    await server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// 3b: API-destination delivery throughput against a bare node:http client

type DeliveryThroughput = {
  bare: { rate: number; cpuMsPerRequest: number }
  junction: {
    rate: number
    putSeconds: number
    seconds: number
    cpuMsPerDelivery: number
    probe: ProbeReport
  }
}

/** Runs `ingest-peer.ts client` to its end and returns what it printed. */
async function bareClient(url: string, total: number, concurrency: number) {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench/ingest-peer.ts'),
      'client',
      url,
      String(total),
      String(concurrency),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
  await new Promise<void>((r) => proc.once('exit', () => r()))
  return JSON.parse(out) as { rate: number; cpuMs: number }
}

/**
 * `total` deliveries each way to the same sink child: a bare node:http client with `concurrency`
 * requests in flight, then a fresh Junction (sync FULL) with one rule matching every event and
 * an API-destination target, fed `total` events by PutEvents (10 per request, 8 connections)
 * while the sink is paused (SIGSTOP); its rate is from the sink's resumption to the last
 * delivery, so it is delivery alone.
 */
async function deliveryThroughput(
  sink: Child,
  total: number,
  concurrency: number,
): Promise<DeliveryThroughput> {
  const bare = await bareClient(`${sink.url}/deliver`, total, concurrency)
  const dataDir = tempDir('junction-bench-')
  const server = await startJunction(dataDir, 'full', 'delivery drain')
  try {
    await setUpRouting(server.url, `${sink.url}/deliver`, [
      { name: 'bench-all', pattern: { source: [SOURCE] }, deliver: true },
    ])
    const base = await sinkCount(sink)
    // The sink is paused while the events go in, so that the drain measured after is delivery
    // alone, not delivery paced by ingest (the first requests wait in its socket backlog).
    sink.proc.kill('SIGSTOP')
    const putStart = performance.now()
    try {
      await autocannon({
        url: server.url,
        connections: 8,
        amount: Math.ceil(total / ENTRIES),
        method: 'POST',
        headers: PUT_HEADERS,
        body: PUT_BODY,
      })
    } finally {
      sink.proc.kill('SIGCONT')
    }
    const putSeconds = (performance.now() - putStart) / 1000
    await probe(server)
    const start = performance.now()
    while ((await sinkCount(sink)) - base < total && performance.now() - start < 120_000)
      await sleep(10)
    const seconds = (performance.now() - start) / 1000
    const p = await probe(server)
    const delivered = (await sinkCount(sink)) - base
    return {
      bare: { rate: bare.rate, cpuMsPerRequest: bare.cpuMs / total },
      junction: {
        rate: delivered / seconds,
        putSeconds,
        seconds,
        cpuMsPerDelivery: p.cpuMs / delivered,
        probe: p,
      },
    }
  } finally {
    await server.stop()
    printProfile(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// 2b: raw SQLite inserts of the same rows

const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/bench-some`

/** Envelope text of entry `i` as Junction stores it, split around the event id. */
const envelopeParts = Array.from({ length: ENTRIES }, (_, i) =>
  envelopeText({
    id: '@ID@',
    detailType: DETAIL_TYPE,
    source: SOURCE,
    account: ACCOUNT,
    time: envelopeTime(Date.now()),
    region: REGION,
    resources: [],
    detailText: JSON.stringify(detail(i)),
  }).split('@ID@'),
)

/**
 * Event rows per second when each transaction holds `batch` events, written as the store does:
 * per request of 10 events, 10 event rows, one delivery row (entry 0 matches) and the counter bump.
 */
function rawSqlite(sync: 'full' | 'normal', batch: number, seconds = 1): number {
  const dir = tempDir('junction-raw-')
  const db = new Database(join(dir, 'junction.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${sync === 'normal' ? 'NORMAL' : 'FULL'}`)
    for (const m of MIGRATIONS) db.exec(m)
    const eventInsert = db.prepare(
      'INSERT INTO events (bus_arn, id, ingested_at, hops, body) VALUES (?, ?, ?, ?, ?)',
    )
    const jobInsert = db.prepare(
      'INSERT INTO deliveries (id, event_seq, rule_arn, target_id, attempts, due_at) VALUES (?, ?, ?, ?, ?, ?)',
    )
    const counterBump = db.prepare(
      "UPDATE counters SET value = max(value, ?) WHERE name = 'delivery_id'",
    )
    let jobId = 0
    const requests = Math.max(1, Math.round(batch / ENTRIES))
    const write = db.transaction(() => {
      const now = Date.now()
      for (let r = 0; r < requests; r++) {
        for (let i = 0; i < ENTRIES; i++) {
          const id = randomUUID()
          const [head, tail] = envelopeParts[i]!
          const seq = eventInsert.run(BUS_ARN, id, now, 0, `${head!}${id}${tail!}`).lastInsertRowid
          if (i === 0) jobInsert.run(++jobId, seq, RULE_ARN, 'sink', 0, now)
        }
        counterBump.run(jobId)
      }
    })
    for (let i = 0; i < 20; i++) write()
    let events = 0
    const start = performance.now()
    let elapsed = 0
    while (elapsed < seconds * 1000) {
      write()
      events += requests * ENTRIES
      elapsed = performance.now() - start
    }
    return events / (elapsed / 1000)
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// 3: put-to-delivered latency at a fixed rate

type LatencyPhase = {
  rate: number
  seconds: number
  sent: number
  arrived: number
  duplicates: number
  failedPuts: number
  /** Deliveries a second at the sink, first to last arrival. */
  arrivalRate: number
  deliveredMs: number[]
  putMs: number[]
  /** The server's figures for the phase (its longest commit, time in transactions, …). */
  probe: ProbeReport
  /** The longest event-loop delay of this process (the sender) in the phase, ms. */
  benchLoopMaxMs: number
}

/**
 * One server (sync FULL), one rule, one API-destination target on a sink child; for
 * each `[events/s, seconds]` phase, paced PutEvents of 10 entries (1 below 100 events/s) whose
 * Detail carries `seq` and `sentAt`, then up to 5 s for the last deliveries to arrive.
 */
async function putToDelivered(phases: [number, number][]): Promise<LatencyPhase[]> {
  // The sink is a child process, so that this process's own pauses (the sender's) do not count
  // as delivery latency; both sides stamp times as epoch ms (timeOrigin + now()).
  const sinkChild = await startPeer('sink')
  const sinkUrl = `${sinkChild.url}/deliver`
  const arrivalsOf = async () =>
    (await (await fetch(`${sinkChild.url}/arrivals`)).json()) as {
      latencies: [number, number][]
      arrivedAt: number[]
      duplicates: number
    }
  const dataDir = tempDir('junction-bench-')
  const server = await startJunction(dataDir, latencySync, 'put-to-delivered')
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  try {
    await setUpRouting(server.url, sinkUrl, [
      { name: 'bench-latency', pattern: { source: ['bench.latency'] }, deliver: true },
    ])

    let putMs: number[] = []
    let failedPuts = 0
    const put = (firstSeq: number, entries: number): Promise<void> => {
      const sentAt = performance.timeOrigin + performance.now()
      const body = JSON.stringify({
        Entries: Array.from({ length: entries }, (_, i) => ({
          Source: 'bench.latency',
          DetailType: DETAIL_TYPE,
          Detail: JSON.stringify(detail(i, { seq: firstSeq < 0 ? -1 : firstSeq + i, sentAt })),
        })),
      })
      return new Promise((done) => {
        const req = request(
          server.url,
          {
            method: 'POST',
            agent,
            headers: { ...PUT_HEADERS, 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (c: string) => (text += c))
            res.on('end', () => {
              if (firstSeq >= 0) putMs.push(performance.timeOrigin + performance.now() - sentAt)
              if (res.statusCode !== 200 || !text.startsWith('{"FailedEntryCount":0,')) failedPuts++
              done()
            })
          },
        )
        req.on('error', () => {
          failedPuts++
          done()
        })
        req.end(body)
      })
    }

    /** `rate` events a second for `seconds`, each request on its due time (catching up). */
    const paced = async (rate: number, seconds: number, measured: boolean): Promise<number> => {
      const entries = rate >= 100 ? ENTRIES : 1
      const total = Math.round((rate / entries) * seconds)
      const interval = (1000 * entries) / rate
      const inFlight: Promise<void>[] = []
      const start = performance.now()
      let sent = 0
      await new Promise<void>((done) => {
        const tick = () => {
          const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1)
          for (; sent < due; sent++) inFlight.push(put(measured ? sent * entries : -1, entries))
          if (sent >= total) done()
          else setTimeout(tick, 1)
        }
        tick()
      })
      await Promise.all(inFlight)
      return total * entries
    }

    await paced(Math.min(100, phases[0]?.[0] ?? 100), 1, false)
    const results: LatencyPhase[] = []
    for (const [rate, seconds] of phases) {
      await sleep(200)
      await arrivalsOf() // drops what the warm-up or the phase before left
      failedPuts = 0
      putMs = []
      await probe(server)
      const loopDelay = monitorEventLoopDelay({ resolution: 5 })
      loopDelay.enable()
      const sent = await paced(rate, seconds, true)
      const deadline = performance.now() + 5000
      const latencies = new Map<number, number>()
      const arrivedAt: number[] = []
      let duplicates = 0
      for (;;) {
        const got = await arrivalsOf()
        for (const [seq, ms] of got.latencies) {
          if (latencies.has(seq)) duplicates++
          else latencies.set(seq, ms)
        }
        arrivedAt.push(...got.arrivedAt)
        duplicates += got.duplicates
        if (latencies.size >= sent || performance.now() >= deadline) break
        await sleep(50)
      }
      loopDelay.disable()
      arrivedAt.sort((a, b) => a - b)
      const span = (arrivedAt.at(-1) ?? 0) - (arrivedAt[0] ?? 0)
      results.push({
        rate,
        seconds,
        sent,
        arrived: latencies.size,
        duplicates,
        failedPuts,
        arrivalRate: span > 0 ? ((arrivedAt.length - 1) * 1000) / span : NaN,
        deliveredMs: [...latencies.values()].sort((a, b) => a - b),
        putMs: putMs.sort((a, b) => a - b),
        probe: await probe(server),
        benchLoopMaxMs: loopDelay.max / 1e6,
      })
    }
    return results
  } finally {
    agent.destroy()
    await server.stop()
    printProfile(server)
    await sinkChild.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// Run and print

/** The put-to-delivered lines (see {@link putToDelivered}). */
function printPutToDelivered(phases: LatencyPhase[]): void {
  console.log(
    `\nput-to-delivered (sync ${latencySync.toUpperCase()}, one rule, API-destination target -> sink child; ` +
      `${String(ENTRIES)} entries/request, paced; up to 5 s allowed for the last deliveries)`,
  )
  console.log(
    'events/s x s     arrived   dup  failed puts   p50 ms   p90 ms   p99 ms   max ms   sink got/s   put p50/p99 ms',
  )
  for (const ph of phases) {
    const dm = ph.deliveredMs
    console.log(
      `${`${fmt(ph.rate)} x ${String(ph.seconds)}`.padEnd(12)} ${`${fmt(ph.arrived)}/${fmt(ph.sent)}`.padStart(13)} ` +
        `${String(ph.duplicates).padStart(5)} ${String(ph.failedPuts).padStart(12)} ` +
        `${ms(percentile(dm, 0.5)).padStart(8)} ${ms(percentile(dm, 0.9)).padStart(8)} ` +
        `${ms(percentile(dm, 0.99)).padStart(8)} ${ms(dm.at(-1) ?? NaN).padStart(8)} ${fmt(ph.arrivalRate).padStart(12)}   ` +
        `${ms(percentile(ph.putMs, 0.5))}/${ms(percentile(ph.putMs, 0.99))}`,
    )
  }
  for (const ph of phases) {
    const p = ph.probe
    console.log(
      `  ${fmt(ph.rate)}/s: server ${fmt(p.commits / p.seconds)} commits/s, in transactions ${((100 * p.txnMs) / (p.seconds * 1000)).toFixed(0)}% of wall time, ` +
        `longest commit ${ms(p.maxTxnMs)} ms, events/commit mean ${(p.events / Math.max(1, p.eventsPerCommit.length)).toFixed(0)}, ` +
        `event loop ${(100 * p.elu).toFixed(0)}% busy, delay p50/p99/max ${loopDelays(p)} ms, ` +
        `CPU ${(p.cpuMs / (p.seconds * 1000)).toFixed(2)} s/s; longest stall of the sender ${ms(ph.benchLoopMaxMs)} ms`,
    )
  }
}

/** The delivery comparison's lines (see {@link deliveryThroughput}). */
function printDeliveryThroughput(t: DeliveryThroughput): void {
  console.log(
    `\nAPI-destination delivery throughput, ${fmt(deliveries)} deliveries to the sink child each way`,
  )
  console.log(
    `  bare node:http client (${String(deliveryConcurrency)} in flight, keep-alive): ${fmt(t.bare.rate)} requests/s, ` +
      `${(t.bare.cpuMsPerRequest * 1000).toFixed(0)} us CPU/request`,
  )
  console.log(
    `  Junction (sync FULL, a backlog of ${fmt(deliveries)} jobs): ${fmt(t.junction.rate)} deliveries/s ` +
      `from the sink's resumption to the last delivery (${t.junction.seconds.toFixed(1)} s; the puts took ${t.junction.putSeconds.toFixed(1)} s before), ` +
      `${(t.junction.cpuMsPerDelivery * 1000).toFixed(0)} us server CPU per delivery (main thread ${((t.junction.probe.mainCpuMs * 1000) / deliveries).toFixed(0)} us), ` +
      `event loop delay p50/p99/max ${loopDelays(t.junction.probe)} ms`,
  )
  console.log(
    `  delivery: Junction deliveries/s / bare node:http client requests/s   ${(t.junction.rate / t.bare.rate).toFixed(2)}  (aim >= 0.7)`,
  )
}

async function main(): Promise<void> {
  console.log(
    `machine: ${String(cpus().length)} CPUs, 1-minute load average ${loadavg()[0]!.toFixed(1)} at the start`,
  )
  console.log(
    `PutEvents, ${String(ENTRIES)} entries/request (${fmt(PUT_BODY.length)} bytes), ` +
      `${String(connections)} connections, ${String(duration)} s after a ${String(warmup)} s warm-up; ` +
      `servers in child processes, autocannon in this one`,
  )
  const sink = await startPeer('sink')
  if (only === 'delivery') {
    printDeliveryThroughput(await deliveryThroughput(sink, deliveries, deliveryConcurrency))
    await sink.stop()
    return
  }
  if (only === 'latency') {
    await sink.stop()
    printPutToDelivered(
      await putToDelivered([
        [latencyRate, latencySeconds],
        [latencyRate / 10, 3],
      ]),
    )
    return
  }
  const bare = await startPeer('bare')
  const bareLoad = await measure(bare)
  await bare.stop()
  const full = await junctionRun('full', sink)
  const normal = await junctionRun('normal', sink)
  const routeOnly = await junctionRun('full', sink, false)
  const throughput = await deliveryThroughput(sink, deliveries, deliveryConcurrency)
  await sink.stop()

  const failed = (l: Load) => `${String(l.non2xx)}/${String(l.mismatches)}/${String(l.errors)}`
  console.log(
    '\nserver                          req/s    events/s   p50 ms   p99 ms   x bare   CPU ms/req   loop busy   non2xx/badbody/err',
  )
  const row = (name: string, l: Measured) =>
    console.log(
      `${name.padEnd(28)} ${fmt(l.reqPerSec).padStart(8)} ${fmt(l.reqPerSec * ENTRIES).padStart(11)} ` +
        `${ms(l.p50).padStart(8)} ${ms(l.p99).padStart(8)} ${(l.reqPerSec / bareLoad.reqPerSec).toFixed(2).padStart(8)} ` +
        `${(l.probe.cpuMs / l.responses).toFixed(3).padStart(12)} ${`${(100 * l.probe.elu).toFixed(0)}%`.padStart(11)}   ${failed(l)}`,
    )
  row('bare node:http', bareLoad)
  row('Junction, sqlite sync FULL', full)
  row('Junction, sqlite sync NORMAL', normal)
  row('Junction FULL, no target', routeOnly)

  const meanBatch = (p: ProbeReport) => p.events / Math.max(1, p.eventsPerCommit.length)
  if (full.probe.commits === 0)
    console.log(
      '  (commit figures read 0: SQLite writes run on the writer thread, which the probe does not see; ' +
        'event loop = the HTTP thread, CPU = the whole process)',
    )
  for (const [name, run] of [
    ['FULL', full],
    ['NORMAL', normal],
    ['FULL, no target', routeOnly],
  ] as const) {
    const p = run.probe
    const epc = p.eventsPerCommit
    console.log(
      `  ${name}: ${fmt(p.commits / p.seconds)} commits/s (${fmt(epc.length / p.seconds)} with events); ` +
        `events/commit mean ${meanBatch(p).toFixed(0)}, p10 ${String(percentile(epc, 0.1))}, ` +
        `p50 ${String(percentile(epc, 0.5))}, p90 ${String(percentile(epc, 0.9))}, max ${String(epc.at(-1) ?? 0)}`,
    )
    console.log(
      `        in transactions ${((100 * p.txnMs) / (p.seconds * 1000)).toFixed(0)}% of wall time ` +
        `(${ms(p.txnMs / Math.max(1, p.commits))} ms/commit, max ${ms(p.maxTxnMs)}), ` +
        `event loop ${(100 * p.elu).toFixed(0)}% busy (delay p50/p99/max ${loopDelays(p)} ms), ` +
        `CPU ${(p.cpuMs / (p.seconds * 1000)).toFixed(2)} s/s (main thread ${(p.mainCpuMs / run.responses).toFixed(3)} ms/req); ` +
        `delivery rows +${fmt(p.jobs / p.seconds)}/s -${fmt(p.finishes / p.seconds)}/s, sink got ${fmt(run.delivered / run.seconds)}/s`,
    )
    if (run.warnings.length > 0)
      console.log(
        `        ${String(run.warnings.length)} server warnings, first: ${run.warnings[0]!.slice(0, 300)}`,
      )
  }

  if (full.stages) {
    const p = full.probe
    const events = full.responses * ENTRIES
    const mainUs = (p.mainCpuMs * 1000) / events
    console.log(
      `\nwhere the time of one event goes (FULL, from the CPU profile of the measured server; ` +
        `main thread ${mainUs.toFixed(1)} us/event, other threads ${(((p.cpuMs - p.mainCpuMs) * 1000) / events).toFixed(1)} us/event):`,
    )
    for (const [name, share] of [...full.stages].sort((a, b) => b[1] - a[1]))
      console.log(
        `  ${(share * mainUs).toFixed(1).padStart(6)} us  ${(100 * share).toFixed(0).padStart(3)}%  ${name}`,
      )
    console.log(
      `  ${(((p.cpuMs - p.mainCpuMs) * 1000) / events).toFixed(1).padStart(6)} us        other threads: ` +
        'the SQLite writer (inserts, commits) and V8/libuv helpers',
    )
  }

  const round10 = (n: number) => Math.max(ENTRIES, Math.round(n / ENTRIES) * ENTRIES)
  const fullBatch = round10(meanBatch(full.probe))
  const normalBatch = round10(meanBatch(normal.probe))
  const batches = [...new Set([ENTRIES, fullBatch, normalBatch, 32 * ENTRIES])].sort(
    (a, b) => a - b,
  )
  console.log(
    '\nraw SQLite in this process (better-sqlite3, same schema, WAL, fresh file; with every 10 event rows 1 delivery row and 1 counter update)',
  )
  console.log('events/transaction     FULL event rows/s   NORMAL event rows/s')
  const raw = new Map<string, number>()
  for (const b of batches) {
    const f = rawSqlite('full', b)
    const n = rawSqlite('normal', b)
    raw.set(`full/${String(b)}`, f)
    raw.set(`normal/${String(b)}`, n)
    const note = [b === fullBatch ? 'FULL' : '', b === normalBatch ? 'NORMAL' : '']
      .filter(Boolean)
      .join(', ')
    const label = `${String(b)}${b === ENTRIES ? ' (1 request)' : ''}${note ? ` (group commit ${note})` : ''}`
    console.log(`${label.padEnd(22)} ${fmt(f).padStart(17)} ${fmt(n).padStart(21)}`)
  }

  printDeliveryThroughput(throughput)

  const phases = await putToDelivered([
    [latencyRate, latencySeconds],
    [latencyRate / 10, 3],
  ])
  printPutToDelivered(phases)
  const d = phases[0]!.deliveredMs

  const fullRaw = raw.get(`full/${String(fullBatch)}`)!
  const normalRaw = raw.get(`normal/${String(normalBatch)}`)!
  console.log('\nratios (same run)')
  console.log(
    `  Junction FULL req/s / bare node:http req/s     ${(full.reqPerSec / bareLoad.reqPerSec).toFixed(2)}  (aim >= 0.5)`,
  )
  console.log(
    `  Junction NORMAL req/s / bare node:http req/s   ${(normal.reqPerSec / bareLoad.reqPerSec).toFixed(2)}`,
  )
  console.log(
    `  Junction FULL, no target / bare node:http      ${(routeOnly.reqPerSec / bareLoad.reqPerSec).toFixed(2)}`,
  )
  const cpuPerReq = (m: Measured) => m.probe.cpuMs / m.responses
  console.log(
    `  by CPU time per request (bare / Junction; steadier when the machine is busy): ` +
      `FULL ${(cpuPerReq(bareLoad) / cpuPerReq(full)).toFixed(2)}, NORMAL ${(cpuPerReq(bareLoad) / cpuPerReq(normal)).toFixed(2)}, ` +
      `no target ${(cpuPerReq(bareLoad) / cpuPerReq(routeOnly)).toFixed(2)}`,
  )
  console.log(
    `  p99 put-to-delivered                           ${ms(percentile(d, 0.99))} ms  (aim < 10 ms)`,
  )
  console.log(
    `  delivery: Junction deliveries/s / bare node:http client requests/s   ${(throughput.junction.rate / throughput.bare.rate).toFixed(2)}  (aim >= 0.7)`,
  )
  console.log(
    `  Junction FULL events/s / raw SQLite FULL event rows/s at ${String(fullBatch)}/txn     ${((full.reqPerSec * ENTRIES) / fullRaw).toFixed(2)}`,
  )
  console.log(
    `  Junction NORMAL events/s / raw SQLite NORMAL event rows/s at ${String(normalBatch)}/txn ${((normal.reqPerSec * ENTRIES) / normalRaw).toFixed(2)}`,
  )
  console.log(
    `\ntotal ${((performance.now() - began) / 1000).toFixed(0)} s; 1-minute load average ${loadavg()[0]!.toFixed(1)} at the end`,
  )
}

try {
  await main()
} finally {
  for (const c of [...running]) await c.stop()
}
