/**
 * `npm run bench:backlog`: a million pending deliveries to a target that is down, and a million
 * messages waiting in a queue: what they cost in memory, how fast a restart is ready, and how
 * fast both drain once their consumers come back, against a small backlog in the same run.
 * Prints figures; asserts nothing.
 *
 * `junction serve` runs in a child process as `npm start` runs it (built to `dist/` first; `--tsx`
 * runs the sources through tsx instead), on a fresh data dir, sync FULL. Its RSS is read from
 * /proc/<pid>/status (VmRSS) every 100 ms.
 *
 * 1. Queue fill: CreateQueue, then `--senders` loops of SendMessageBatch (10 messages of 200
 *    bytes per call, SQS JSON 1.0 written by hand) until `--messages` are sent.
 * 2. Event fill: a rule whose target is an API destination on a local port where nothing
 *    listens (the target is down), then `--senders` loops of PutEvents (10 entries per request)
 *    until `--events` are acknowledged. The dispatcher keeps trying (connection refused) and
 *    schedules retries meanwhile, as it would in production.
 * 3. RSS peak and final of the fills, and their rates.
 * 4. SIGTERM, then a restart on the same data dir: spawn to `/health` 200, and RSS after.
 * 5. A sink starts on the target's port; meanwhile `--consumers` loops of ReceiveMessage (max 10)
 *    + DeleteMessageBatch drain the queue. Delivery drain: unique events/s from the first to the
 *    last delivered (and over the middle 90%, which leaves out the tail of retries whose backoff
 *    had not run out yet), duplicates; queue drain: messages/s; RSS peak during the drains.
 * 6. Baseline: the same on a fresh server with `--baseline` messages and events (20,000), and
 *    the drain rates as ratios of the two.
 *
 * Options: `--messages N` (1000000), `--events N` (1000000), `--baseline N` (20000; 0 skips),
 * `--senders N` (8), `--consumers N` (4), `--window N` (the server's `--delivery-window`; its
 * default when absent), `--drain-timeout S` (900), `--direct-fill`: create the queue, rule and
 * target through the API, stop the server and write the backlog's rows straight into its SQLite
 * file (the store's schema and row shapes, as `ingest.bench.ts` writes raw rows), then go on
 * from step 4. Fill rates and fill RSS are then not measured; restart, RSS and drains are, at
 * full size in a minute or two rather than the hour a fill through the API can take when the
 * machine is shared (every job is also being tried against the dead target meanwhile).
 */
import Database from 'better-sqlite3'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { envelopeText, envelopeTime } from '../src/engine/envelope.js'
import { numberArg as arg } from './args.js'
import { SERVE_NODE_OPTIONS } from '../src/cli/node-options.js'

const MESSAGES = arg('messages', 1_000_000)
const EVENTS = arg('events', 1_000_000)
const BASELINE = arg('baseline', 20_000)
const SENDERS = Math.max(1, arg('senders', 8))
const CONSUMERS = Math.max(1, arg('consumers', 4))
const WINDOW = arg('window', 0)
const DRAIN_TIMEOUT_MS = arg('drain-timeout', 900) * 1000
const DIRECT = process.argv.includes('--direct-fill')
/** `--tsx`: run the server from the TypeScript sources through tsx (as the tests do). */
const TSX = process.argv.includes('--tsx')
/** What `npm start` runs; built from the current sources before the bench starts. */
const SERVE_JS = 'dist/cli/main.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const SOURCE = 'bench.backlog'
const auth = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=x`
const EVENTS_HEADERS = {
  authorization: auth('events'),
  'content-type': 'application/x-amz-json-1.1',
}
const SQS_HEADERS = { authorization: auth('sqs'), 'content-type': 'application/x-amz-json-1.0' }
const BODY = 'x'.repeat(200)

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t))
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix))
const began = performance.now()

// ---------------------------------------------------------------------------------------------
// The server child and its RSS

type Junction = {
  url: string
  proc: ChildProcess
  /** Milliseconds from spawn to the first `/health` 200. */
  readyMs: number
  output: () => string
  stop: () => Promise<void>
}
const running = new Set<Junction>()

/** `junction serve` on `dataDir` (sync FULL), waiting until `/health` answers 200. */
async function startJunction(dataDir: string): Promise<Junction> {
  const spawnedAt = performance.now()
  const proc = spawn(
    process.execPath,
    [
      ...SERVE_NODE_OPTIONS,
      ...(TSX
        ? ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')]
        : [join(repoRoot, SERVE_JS)]),
      'serve',
      '--port',
      '0',
      '--data',
      dataDir,
      '--sync',
      'full',
      '--log-level',
      'info',
      ...(WINDOW > 0 ? ['--delivery-window', String(WINDOW)] : []),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()))
  const exited = new Promise<void>((res) => proc.once('exit', () => res()))
  const child = { exited: false }
  void exited.then(() => (child.exited = true))
  let url: string | undefined
  for (;;) {
    if (child.exited) throw new Error(`junction exited before it was ready:\n${out.slice(-3000)}`)
    url ??= /"url":"(http:[^"]+)"/.exec(out)?.[1]
    if (url) {
      const ok = await fetch(`${url}/health`).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ok) break
    }
    if (performance.now() - spawnedAt > 120_000) throw new Error(`junction did not start:\n${out}`)
    await sleep(10)
  }
  const readyMs = performance.now() - spawnedAt
  let stopped: Promise<void> | undefined
  const j: Junction = {
    url,
    proc,
    readyMs,
    output: () => out,
    stop() {
      running.delete(j)
      stopped ??= (async () => {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000)
        await exited
        clearTimeout(timer)
      })()
      return stopped
    },
  }
  running.add(j)
  return j
}

/** VmRSS of `pid` in kB (0 once it has exited). */
function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

/** Samples a process's RSS every 100 ms until stopped; the peak seen and the last value. */
function watchRss(pid: number) {
  let peak = rssKb(pid)
  let last = peak
  const timer = setInterval(() => {
    last = rssKb(pid)
    if (last > peak) peak = last
  }, 100)
  return {
    stop() {
      clearInterval(timer)
      last = rssKb(pid) || last
      if (last > peak) peak = last
      return { peak, last }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP clients

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

function post(url: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

type Json = Record<string, unknown>

async function call(url: string, target: string, input: Json): Promise<Json> {
  const sqs = target.startsWith('AmazonSQS.')
  const { status, text } = await post(
    url,
    { ...(sqs ? SQS_HEADERS : EVENTS_HEADERS), 'x-amz-target': target },
    JSON.stringify(input),
  )
  if (status !== 200) throw new Error(`${target}: ${String(status)} ${text.slice(0, 300)}`)
  return JSON.parse(text) as Json
}

/** Runs `senders` loops of `step` until `total` units are done; units/s. */
async function loops(
  total: number,
  workers: number,
  step: (from: number) => Promise<number>,
): Promise<number> {
  let next = 0
  let done = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) {
        const from = next
        next += 10
        done += await step(from)
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

// ---------------------------------------------------------------------------------------------
// The sink (the target coming back)

type Sink = {
  server: Server
  unique: Set<number>
  requests: number
  arrivals: number[]
  close(): Promise<void>
}

/** A port nobody listens on (yet): the target's. */
async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function startSink(port: number): Promise<Sink> {
  const sink: Omit<Sink, 'server' | 'close'> = { unique: new Set(), requests: 0, arrivals: [] }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      sink.requests++
      try {
        const seq = (
          JSON.parse(Buffer.concat(chunks).toString('utf8')) as { detail: { seq: number } }
        ).detail.seq
        if (!sink.unique.has(seq)) {
          sink.unique.add(seq)
          sink.arrivals.push(performance.now())
        }
      } catch {
        // not one of ours: counted as a request only
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  server.keepAliveTimeout = 65_000
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  return Object.assign(sink, {
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  })
}

// ---------------------------------------------------------------------------------------------
// --direct-fill: the backlog's rows written into the stopped server's file

function writeBacklog(dataDir: string, messages: number, events: number, ruleArn: string): void {
  const db = new Database(join(dataDir, 'junction.db'))
  db.pragma('journal_mode = WAL')
  const counter = (name: string) =>
    db.prepare<[string], { value: number }>('SELECT value FROM counters WHERE name = ?').get(name)!
      .value
  const queueId = (
    JSON.parse(db.prepare<[], { doc: string }>('SELECT doc FROM queues').get()!.doc) as {
      id: string
    }
  ).id
  const msg = db.prepare(
    `INSERT INTO queue_messages (seq, queue_id, id, body, meta, sent_at, visible_at, receive_count)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
  )
  const ev = db.prepare(
    'INSERT INTO events (bus_arn, id, ingested_at, hops, body) VALUES (?, ?, ?, ?, ?)',
  )
  const job = db.prepare(
    'INSERT INTO deliveries (id, event_seq, rule_arn, target_id, attempts, due_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const bump = db.prepare('UPDATE counters SET value = ? WHERE name = ?')
  const busArn = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`
  const meta = JSON.stringify({ senderId: ACCOUNT })
  let seq = counter('message_seq')
  let jobId = counter('delivery_id')
  const now = Date.now()
  const chunk = 50_000
  for (let from = 0; from < Math.max(messages, events); from += chunk) {
    db.transaction(() => {
      for (let i = from; i < Math.min(messages, from + chunk); i++)
        msg.run(++seq, queueId, randomUUID(), `${String(i)} ${BODY}`, meta, now, now)
      for (let i = from; i < Math.min(events, from + chunk); i++) {
        const id = randomUUID()
        const text = envelopeText({
          id,
          detailType: 'backlog',
          source: SOURCE,
          account: ACCOUNT,
          time: envelopeTime(now),
          region: REGION,
          resources: [],
          detailText: JSON.stringify({ seq: i, pad: 'y'.repeat(150) }),
        })
        const eventSeq = ev.run(busArn, id, now, 0, text).lastInsertRowid
        job.run(++jobId, eventSeq, ruleArn, 'sink', 0, now)
      }
      bump.run(seq, 'message_seq')
      bump.run(jobId, 'delivery_id')
    })()
  }
  db.close()
}

// ---------------------------------------------------------------------------------------------
// One run: fill, restart, drain

type Run = {
  messages: number
  events: number
  queueFillRate: number
  eventFillRate: number
  fillRss: { peak: number; last: number }
  restartMs: number
  rssAfterStart: number
  rssAfterStart2s: number
  deliveryRate: number
  deliveryRateMid: number
  deliveredUnique: number
  duplicates: number
  queueDrainRate: number
  drained: number
  drainRss: { peak: number; last: number }
  warnings: string[]
}

async function run(messages: number, events: number): Promise<Run> {
  const dataDir = tempDir('junction-backlog-')
  try {
    let server = await startJunction(dataDir)
    let rss = watchRss(server.proc.pid!)

    // 1: the queue
    const { QueueUrl: queueUrl } = (await call(server.url, 'AmazonSQS.CreateQueue', {
      QueueName: 'backlog',
    })) as { QueueUrl: string }
    const queueFillRate =
      messages === 0 || DIRECT
        ? 0
        : await loops(messages, SENDERS, async (from) => {
            const n = Math.min(10, messages - from)
            const out = await call(server.url, 'AmazonSQS.SendMessageBatch', {
              QueueUrl: queueUrl,
              Entries: Array.from({ length: n }, (_, i) => ({
                Id: String(i),
                MessageBody: `${String(from + i)} ${BODY}`,
              })),
            })
            return ((out.Successful as unknown[] | undefined) ?? []).length
          })
    const afterQueue = rssKb(server.proc.pid!)

    // 2: the rule, its target that is down, and the events
    const port = await freePort()
    const conn = await call(server.url, 'AWSEvents.CreateConnection', {
      Name: 'backlog',
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'k' } },
    })
    const dest = await call(server.url, 'AWSEvents.CreateApiDestination', {
      Name: 'backlog',
      ConnectionArn: conn.ConnectionArn,
      InvocationEndpoint: `http://127.0.0.1:${String(port)}/deliver`,
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 10_000,
    })
    const { RuleArn: ruleArn } = (await call(server.url, 'AWSEvents.PutRule', {
      Name: 'backlog',
      EventPattern: JSON.stringify({ source: [SOURCE] }),
    })) as { RuleArn: string }
    await call(server.url, 'AWSEvents.PutTargets', {
      Rule: 'backlog',
      Targets: [{ Id: 'sink', Arn: dest.ApiDestinationArn }],
    })
    let acked = 0
    if (DIRECT) {
      await server.stop()
      const t = performance.now()
      writeBacklog(dataDir, messages, events, ruleArn)
      acked = events
      console.log(
        `  wrote ${fmt(messages)} message rows and ${fmt(events)} event and delivery rows in ${fmt(performance.now() - t)} ms`,
      )
    }
    const eventFillRate = DIRECT
      ? 0
      : await loops(events, SENDERS, async (from) => {
          const n = Math.min(10, events - from)
          const out = await call(server.url, 'AWSEvents.PutEvents', {
            Entries: Array.from({ length: n }, (_, i) => ({
              Source: SOURCE,
              DetailType: 'backlog',
              Detail: JSON.stringify({ seq: from + i, pad: 'y'.repeat(150) }),
            })),
          })
          if (out.FailedEntryCount !== 0)
            throw new Error(`PutEvents failed: ${JSON.stringify(out)}`)
          acked += n
          return n
        })
    const fillRss = rss.stop()
    console.log(
      `  filled: ${fmt(messages)} messages at ${fmt(queueFillRate)}/s (RSS then ${mb(afterQueue)}), ` +
        `${fmt(acked)} events acknowledged at ${fmt(eventFillRate)}/s; RSS peak ${mb(fillRss.peak)}, final ${mb(fillRss.last)}`,
    )

    // 4: restart
    await server.stop() // (already stopped after a direct fill)
    server = await startJunction(dataDir)
    const restartMs = server.readyMs
    const rssAfterStart = rssKb(server.proc.pid!)
    rss = watchRss(server.proc.pid!)
    await sleep(2000)
    const rssAfterStart2s = rssKb(server.proc.pid!)
    console.log(
      `  restart: /health 200 after ${fmt(restartMs)} ms; RSS ${mb(rssAfterStart)} then, ${mb(rssAfterStart2s)} 2 s later`,
    )

    // 5: the target comes back; the queue's consumers too
    const sink = await startSink(port)
    const deliveryDone = (async () => {
      const deadline = performance.now() + DRAIN_TIMEOUT_MS
      while (sink.unique.size < events && performance.now() < deadline) await sleep(50)
    })()
    let drained = 0
    const queueStarted = performance.now()
    let queueEnded = queueStarted
    const queueDone = Promise.all(
      Array.from({ length: messages === 0 ? 0 : CONSUMERS }, async () => {
        const deadline = performance.now() + DRAIN_TIMEOUT_MS
        while (drained < messages && performance.now() < deadline) {
          const out = await call(server.url, 'AmazonSQS.ReceiveMessage', {
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          })
          const got = (out.Messages as { ReceiptHandle: string }[] | undefined) ?? []
          if (got.length === 0) continue
          const del = await call(server.url, 'AmazonSQS.DeleteMessageBatch', {
            QueueUrl: queueUrl,
            Entries: got.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          })
          drained += ((del.Successful as unknown[] | undefined) ?? []).length
          queueEnded = performance.now()
        }
      }),
    )
    await Promise.all([deliveryDone, queueDone])
    const drainRss = rss.stop()
    await sink.close()
    const a = sink.arrivals
    const span = (i: number, j: number) =>
      a.length > j && j > i ? (j - i) / ((a[j]! - a[i]!) / 1000) : NaN
    const deliveryRate = span(0, a.length - 1)
    const deliveryRateMid = span(Math.floor(a.length * 0.05), Math.floor(a.length * 0.95))
    const queueDrainRate = drained / ((queueEnded - queueStarted) / 1000)
    console.log(
      `  drained: ${fmt(sink.unique.size)}/${fmt(events)} events at ${fmt(deliveryRate)}/s first to last ` +
        `(${fmt(deliveryRateMid)}/s over the middle 90%), ${fmt(sink.requests - sink.unique.size)} duplicates; ` +
        `${fmt(drained)}/${fmt(messages)} messages at ${fmt(queueDrainRate)}/s; RSS peak ${mb(drainRss.peak)}, final ${mb(drainRss.last)}`,
    )
    await server.stop()
    const warnings = server
      .output()
      .split('\n')
      .filter((l) => /"level":(40|50|60)/.test(l))
    return {
      messages,
      events,
      queueFillRate,
      eventFillRate,
      fillRss,
      restartMs,
      rssAfterStart,
      rssAfterStart2s,
      deliveryRate,
      deliveryRateMid,
      deliveredUnique: sink.unique.size,
      duplicates: sink.requests - sink.unique.size,
      queueDrainRate,
      drained,
      drainRss,
      warnings,
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  if (!TSX) {
    // The server as `npm start` runs it: compiled, without tsx's loader in the process.
    execFileSync(
      process.execPath,
      [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: repoRoot,
        stdio: 'inherit',
      },
    )
  }
  console.log(
    `backlog bench: ${fmt(MESSAGES)} messages, ${fmt(EVENTS)} events, baseline ${fmt(BASELINE)} each` +
      `${DIRECT ? ' (written straight into the store)' : ''}; ` +
      `${String(SENDERS)} senders, ${String(CONSUMERS)} consumers, delivery window ${WINDOW > 0 ? fmt(WINDOW) : 'default'}; ` +
      `load average ${loadavg()[0]!.toFixed(1)}`,
  )
  console.log('\nlarge backlog')
  const big = await run(MESSAGES, EVENTS)
  let small: Run | undefined
  if (BASELINE > 0) {
    console.log('\nbaseline (small backlog, same steps)')
    // Whatever the large run left out (`--messages 0`, `--events 0`), the baseline leaves out.
    small = await run(MESSAGES > 0 ? BASELINE : 0, EVENTS > 0 ? BASELINE : 0)
  }
  console.log('\nsummary')
  const row = (label: string, f: (r: Run) => string) =>
    console.log(
      `  ${label.padEnd(44)} ${f(big).padStart(14)} ${small ? f(small).padStart(14) : ''}`,
    )
  row('', (r) => `${fmt(r.events)} ev`)
  row('queue fill, messages/s', (r) => fmt(r.queueFillRate))
  row('event fill (acknowledged), events/s', (r) => fmt(r.eventFillRate))
  row('RSS peak during the fills', (r) => mb(r.fillRss.peak))
  row('RSS at the end of the fills', (r) => mb(r.fillRss.last))
  row('restart: spawn to /health 200, ms', (r) => fmt(r.restartMs))
  row('RSS right after the restart', (r) => mb(r.rssAfterStart))
  row('RSS 2 s after the restart', (r) => mb(r.rssAfterStart2s))
  row('delivery drain, events/s (first to last)', (r) => fmt(r.deliveryRate))
  row('delivery drain, events/s (middle 90%)', (r) => fmt(r.deliveryRateMid))
  row('delivered (unique) / duplicates', (r) => `${fmt(r.deliveredUnique)}/${fmt(r.duplicates)}`)
  row('queue drain, messages/s', (r) => fmt(r.queueDrainRate))
  row('RSS peak during the drains', (r) => mb(r.drainRss.peak))
  row('server warnings (restarted server)', (r) => String(r.warnings.length))
  if (small) {
    console.log('\nratios, large / baseline (1.00 = drains at the same speed)')
    console.log(
      `  delivery drain (first to last)   ${(big.deliveryRate / small.deliveryRate).toFixed(2)}`,
    )
    console.log(
      `  delivery drain (middle 90%)      ${(big.deliveryRateMid / small.deliveryRateMid).toFixed(2)}`,
    )
    console.log(
      `  queue drain                      ${(big.queueDrainRate / small.queueDrainRate).toFixed(2)}`,
    )
  }
  for (const w of big.warnings.slice(0, 3)) console.log(`  warning: ${w.slice(0, 300)}`)
  console.log(
    `\ntotal ${((performance.now() - began) / 1000).toFixed(0)} s; load average ${loadavg()[0]!.toFixed(1)} at the end`,
  )
}

try {
  await main()
} finally {
  for (const j of [...running]) await j.stop()
  agent.destroy()
}
