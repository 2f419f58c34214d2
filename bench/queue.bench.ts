/**
 * `npm run bench:queue`: Junction's SQS queues end to end, against baselines measured in the same
 * run. Prints figures; asserts nothing.
 *
 * Each phase starts a fresh server in this process (`startServer` from `src/bus.ts`, SQLite store
 * in a temp dir, sync FULL unless `--sync normal`) and talks to it over HTTP with keep-alive
 * agents, in the SQS JSON 1.0 protocol written by hand over node:http (`X-Amz-Target:
 * AmazonSQS.<Action>`), so the client costs little next to the server. The load generator shares
 * the server's process (and event loop): CPU figures are the process's, split by thread (main:
 * HTTP, queue engine and this client; writer: SQLite; other: V8's and libuv's helpers).
 *
 * 1. Round trip: `--producers` loops of SendMessageBatch (10 per call) and `--consumers` loops of
 *    ReceiveMessage (MaxNumberOfMessages 10, WaitTimeSeconds 1) + DeleteMessageBatch, for
 *    `--messages` messages; then the unbatched calls (SendMessage, ReceiveMessage max 1,
 *    DeleteMessage) for `--single` messages; then (reference) the batched loops through
 *    @aws-sdk/client-sqs for `--sdk` messages. Producers pause while `--backlog` messages are
 *    sent but not received. Messages/s sent → deleted, send → receive latency, CPU.
 * 2. Baseline: raw better-sqlite3 on a fresh file (schema of `migrations.ts`, WAL, same sync),
 *    per message the store's insert, receive update and delete, in transactions of 10 rows; and
 *    in mixed transactions as large as the commits group commit made in (1).
 * 3. Long-poll wake-up: one ReceiveMessage waiting (WaitTimeSeconds 20) on an empty queue, one
 *    SendMessage; from the send's answer (and start) to the receive's answer. Baseline: the round
 *    trips of SendMessage, ReceiveMessage (message waiting) and DeleteMessage.
 * 4. Put-event to received: a rule on the default bus whose target is a queue; paced PutEvents
 *    (`--rate` events/s for `--put-seconds`) while a consumer long-polls; from PutEvents start
 *    (and from its answer) to the ReceiveMessage answer holding the event.
 *
 * A probe wraps `Worker.prototype.postMessage`/`emit` in this process (nothing in `src/`
 * changes) to see the writes the store posts to its writer thread and the commits it answers.
 *
 * Options: `--messages N` (100000), `--single N` (10000), `--sdk N` (20000; 0 skips),
 * `--producers N` (4), `--consumers N` (8), `--backlog N` (1000; 0 for none), `--body-bytes N`
 * (256), `--raw-seconds S` (2), `--wakeups N` (200), `--rate N` (500), `--put-seconds S` (10),
 * `--put-entries N` (1), `--sync normal`, `--only roundtrip,raw,wakeup,put`, `--no-probe`, `--profile`
 * (one more batched round trip under the inspector's CPU profiler; its hottest functions printed).
 */
import { SQSClient } from '@aws-sdk/client-sqs'
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs'
import Database from 'better-sqlite3'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { Session } from 'node:inspector/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { pino } from 'pino'
import { startServer, type RunningServer } from '../src/bus.js'
import { DEFAULTS } from '../src/config.js'
import { Queues } from '../src/queue/queues.js'
import type { WriteAnswer, WriteOp, WriteRequest } from '../src/store/sqlite/writes.js'
import { MIGRATIONS } from '../src/store/sqlite/migrations.js'
import { summarizeProfile } from './cpu-profile.js'
import { unpackAppend } from '../src/store/sqlite/append-rows.js'
import { numberArg as arg } from './args.js'

// ---------------------------------------------------------------------------------------------
// Options

const MESSAGES = arg('messages', 100_000)
const SINGLE = arg('single', 10_000)
const SDK_MESSAGES = arg('sdk', 20_000)
const PRODUCERS = Math.max(1, arg('producers', 4))
const CONSUMERS = Math.max(1, arg('consumers', 8))
const BACKLOG = arg('backlog', 1_000)
const BODY_BYTES = Math.max(40, arg('body-bytes', 256))
const RAW_SECONDS = arg('raw-seconds', 2)
const WAKEUPS = arg('wakeups', 200)
const RATE = arg('rate', 500)
const PUT_SECONDS = arg('put-seconds', 10)
const PUT_ENTRIES = Math.max(1, Math.min(10, arg('put-entries', 1)))
const PROFILE = process.argv.includes('--profile')
/** `--no-probe`: leave Worker alone (the commit figures then read 0), to see what the probe costs. */
const PROBE = !process.argv.includes('--no-probe')
const SYNC: 'full' | 'normal' =
  process.argv.includes('--sync') && process.argv[process.argv.indexOf('--sync') + 1] === 'normal'
    ? 'normal'
    : 'full'

// The SDK's notice that its 2027 releases need Node 22 is not news to a benchmark.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const SQS_HEADERS = {
  authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/sqs/aws4_request, SignedHeaders=host, Signature=x`,
  'content-type': 'application/x-amz-json-1.0',
}
const EVENTS_HEADERS = {
  authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/events/aws4_request, SignedHeaders=host, Signature=x`,
  'content-type': 'application/x-amz-json-1.1',
}

const fmt = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'
const ms = (n: number): string =>
  !Number.isFinite(n) ? '-' : Math.abs(n) < 10 ? n.toFixed(2) : n.toFixed(1)
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t))
const percentile = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
const sortedOf = (xs: Iterable<number>): Float64Array => Float64Array.from(xs).sort()
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix))
const began = performance.now()
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 300)

// ---------------------------------------------------------------------------------------------
// Probes: per-thread CPU time (Linux /proc) and the store's writes and commits

const CLOCK_TICK_MS = 10 // USER_HZ is 100 on Linux

/** CPU time (ms) of each thread of this process, by thread id. */
function threadCpu(): Map<number, number> {
  const out = new Map<number, number>()
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS)
    } catch {
      // the thread ended meanwhile
    }
  }
  return out
}

/** What the store posted to its writer and what the writer answered, since the last reset. */
const writes = {
  /** id → [when posted, message rows it writes] */
  posted: new Map<number, [number, number]>(),
  commits: 0,
  committedWrites: 0,
  rows: 0,
  failed: 0,
  rowsPerCommit: [] as number[],
  ackMs: [] as number[],
  reset() {
    this.posted.clear()
    this.commits = 0
    this.committedWrites = 0
    this.rows = 0
    this.failed = 0
    this.rowsPerCommit = []
    this.ackMs = []
  },
}

/** Rows a write changes (message rows, plus the counter bump of an insert). */
function rowsOf(op: WriteOp): number {
  switch (op.t) {
    case 'queue':
      return op.writes.reduce(
        (n, w) =>
          n +
          (w.t === 'insert'
            ? w.messages.length + w.dedup.length + (w.messages.length > 0 ? 1 : 0)
            : w.t === 'update'
              ? w.messages.length
              : w.t === 'remove'
                ? w.seqs.length
                : 1),
        0,
      )
    case 'append': {
      const { events, jobs } = unpackAppend(op.packed)
      return events.length + jobs.length + (jobs.length > 0 ? 1 : 0)
    }
    case 'finish':
      return op.ids.length
    case 'config':
      return op.ops.length
    case 'reschedule':
    case 'deadLetter':
    case 'archivePurge':
    case 'archiveDrop':
      return 1
  }
}

if (PROBE) {
  // The store's writer is the only Worker in this process. The originals are called with the
  // worker as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const post = Worker.prototype.postMessage
  Worker.prototype.postMessage = function (this: Worker, value: unknown, transfer?: never) {
    const m = value as WriteRequest
    if (m.kind === 'writes') {
      const at = performance.now()
      for (const w of m.writes) writes.posted.set(w.id, [at, rowsOf(w.op)])
    }
    post.call(this, value, transfer)
  }
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const emit = Worker.prototype.emit
  Worker.prototype.emit = function (this: Worker, event: string | symbol, ...args: unknown[]) {
    if (event === 'message') {
      const a = args[0] as WriteAnswer
      if (a.kind === 'committed' || a.kind === 'failed') {
        const at = performance.now()
        let rows = 0
        for (const id of a.ids) {
          const p = writes.posted.get(id)
          writes.posted.delete(id)
          if (!p) continue
          rows += p[1]
          writes.ackMs.push(at - p[0])
        }
        if (a.kind === 'committed') {
          writes.commits++
          writes.committedWrites += a.ids.length
          writes.rows += rows
          writes.rowsPerCommit.push(rows)
        } else writes.failed += a.ids.length
      }
    }
    return emit.call(this, event, ...args)
  } as typeof emit
}

type Window = {
  seconds: number
  /** Process CPU (all threads), ms. */
  cpuMs: number
  mainMs: number
  writerMs: number
  otherMs: number
  /** Event-loop utilization of the main thread. */
  elu: number
  commits: number
  committedWrites: number
  rows: number
  failedWrites: number
  rowsPerCommit: Float64Array
  ackMs: Float64Array
}

/** Starts measuring; the returned function ends the window. `writerTids`: the store's threads. */
function window(writerTids: Set<number>): () => Window {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const threads0 = threadCpu()
  const elu0 = performance.eventLoopUtilization()
  writes.reset()
  return () => {
    const cpu = process.cpuUsage(cpu0)
    const threads = threadCpu()
    let mainMs = 0
    let writerMs = 0
    let otherMs = 0
    for (const [tid, t] of threads) {
      const d = t - (threads0.get(tid) ?? 0)
      if (tid === process.pid) mainMs += d
      else if (writerTids.has(tid)) writerMs += d
      else otherMs += d
    }
    return {
      seconds: (performance.now() - t0) / 1000,
      cpuMs: (cpu.user + cpu.system) / 1000,
      mainMs,
      writerMs,
      otherMs,
      elu: performance.eventLoopUtilization(elu0).utilization,
      commits: writes.commits,
      committedWrites: writes.committedWrites,
      rows: writes.rows,
      failedWrites: writes.failed,
      rowsPerCommit: sortedOf(writes.rowsPerCommit),
      ackMs: sortedOf(writes.ackMs),
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Server

type Junction = {
  server: RunningServer
  url: string
  writerTids: Set<number>
  logged: string[]
  stop(): Promise<void>
}
const running = new Set<Junction>()

/** A fresh server in this process on a temp SQLite store; its log lines at warn and above kept. */
async function startJunction(): Promise<Junction> {
  const dataDir = tempDir('junction-queue-bench-')
  const logged: string[] = []
  const before = new Set(threadCpu().keys())
  const server = await startServer({
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    dataDir,
    store: 'sqlite',
    sync: SYNC,
    defaultAccount: ACCOUNT,
    region: REGION,
    logLevel: 'warn',
    log: pino(
      { level: 'warn' },
      {
        write(line: string) {
          logged.push(line)
        },
      },
    ),
  })
  // The threads the store started: its writer (all threads are named "node", so by birth).
  const writerTids = new Set([...threadCpu().keys()].filter((t) => !before.has(t)))
  let stopped: Promise<void> | undefined
  const j: Junction = {
    server,
    url: server.url,
    writerTids,
    logged,
    stop() {
      running.delete(j)
      stopped ??= (async () => {
        await server.close()
        rmSync(dataDir, { recursive: true, force: true })
      })()
      return stopped
    },
  }
  running.add(j)
  return j
}

// ---------------------------------------------------------------------------------------------
// The raw JSON 1.0 client

class SqsCallError extends Error {}

/** POSTs `body` to `/`; resolves with the status and the answer's text. */
function post(
  url: string,
  agent: Agent,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

type Json = Record<string, unknown>

async function sqsCall(url: string, agent: Agent, action: string, input: Json): Promise<Json> {
  const { status, text } = await post(
    url,
    agent,
    { ...SQS_HEADERS, 'x-amz-target': `AmazonSQS.${action}` },
    JSON.stringify(input),
  )
  if (status !== 200) throw new SqsCallError(`${action}: ${String(status)} ${text.slice(0, 300)}`)
  return JSON.parse(text) as Json
}

async function eventsCall(url: string, agent: Agent, op: string, input: Json): Promise<Json> {
  const { status, text } = await post(
    url,
    agent,
    { ...EVENTS_HEADERS, 'x-amz-target': `AWSEvents.${op}` },
    JSON.stringify(input),
  )
  if (status !== 200) throw new Error(`${op}: ${String(status)} ${text.slice(0, 300)}`)
  return JSON.parse(text) as Json
}

type Received = { body: string; handle: string }

/** The calls the round trip makes, over the raw protocol or through the SDK. */
type Client = {
  /** Sends the bodies in one call (SendMessageBatch, or SendMessage for one); failed entries. */
  send(bodies: string[]): Promise<number>
  receive(max: number, waitSeconds: number): Promise<Received[]>
  /** DeleteMessageBatch (DeleteMessage for one); failed entries. */
  delete(handles: string[]): Promise<number>
  close(): void
}

function rawClient(url: string, queueUrl: string): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const failedOf = (out: Json) => (Array.isArray(out.Failed) ? out.Failed.length : 0)
  return {
    async send(bodies) {
      if (bodies.length === 1) {
        await sqsCall(url, agent, 'SendMessage', { QueueUrl: queueUrl, MessageBody: bodies[0] })
        return 0
      }
      return failedOf(
        await sqsCall(url, agent, 'SendMessageBatch', {
          QueueUrl: queueUrl,
          Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
        }),
      )
    },
    async receive(max, waitSeconds) {
      const out = await sqsCall(url, agent, 'ReceiveMessage', {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
      })
      const list = (out.Messages ?? []) as { Body: string; ReceiptHandle: string }[]
      return list.map((m) => ({ body: m.Body, handle: m.ReceiptHandle }))
    },
    async delete(handles) {
      if (handles.length === 1) {
        await sqsCall(url, agent, 'DeleteMessage', {
          QueueUrl: queueUrl,
          ReceiptHandle: handles[0],
        })
        return 0
      }
      return failedOf(
        await sqsCall(url, agent, 'DeleteMessageBatch', {
          QueueUrl: queueUrl,
          Entries: handles.map((h, i) => ({ Id: String(i), ReceiptHandle: h })),
        }),
      )
    },
    close() {
      agent.destroy()
    },
  }
}

/** The same calls through @aws-sdk/client-sqs (JSON 1.0, MD5 checks on send and receive). */
function sdkClient(url: string, queueUrl: string): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const client = new SQSClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'bench' },
    requestHandler: { httpAgent: agent },
  })
  return {
    async send(bodies) {
      const out = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
        }),
      )
      return out.Failed?.length ?? 0
    },
    async receive(max, waitSeconds) {
      const out = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
        }),
      )
      return (out.Messages ?? []).map((m) => ({
        body: m.Body ?? '',
        handle: m.ReceiptHandle ?? '',
      }))
    },
    async delete(handles) {
      const out = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: handles.map((h, i) => ({ Id: String(i), ReceiptHandle: h })),
        }),
      )
      return out.Failed?.length ?? 0
    },
    close() {
      client.destroy()
      agent.destroy()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// 1: round trip

const PAD = 'x'.repeat(BODY_BYTES)
/** `seq:sentAt:xxx…`, BODY_BYTES long: cheap to make and to read back. */
function messageBody(seq: number, sentAt: number): string {
  const head = `${String(seq)}:${sentAt.toFixed(3)}:`
  return head + PAD.slice(head.length)
}
function readBody(body: string): [seq: number, sentAt: number] {
  const a = body.indexOf(':')
  const b = body.indexOf(':', a + 1)
  return [Number(body.slice(0, a)), Number(body.slice(a + 1, b))]
}

type RoundTrip = {
  label: string
  batch: number
  target: number
  sent: number
  received: number
  deleted: number
  duplicates: number
  sendFailures: number
  deleteFailures: number
  errors: number
  firstError?: string
  receives: number
  emptyReceives: number
  seconds: number
  rate: number
  latency: Float64Array
  /** Messages sent but not yet received, sampled at each receive: mean and max. */
  backlogMean: number
  backlogMax: number
  /** ApproximateNumberOfMessages(+NotVisible) once done: should both be 0. */
  left: string
  stalled: boolean
  window: Window
  logged: string[]
  benchLoopMaxMs: number
}

/**
 * `total` messages through a fresh queue: PRODUCERS loops sending `batch` per call and
 * CONSUMERS loops receiving up to `batch` (WaitTimeSeconds 1) and deleting what they got.
 */
async function roundTrip(
  label: string,
  total: number,
  batch: number,
  kind: 'raw' | 'sdk',
  profileTo?: string,
): Promise<RoundTrip> {
  const j = await startJunction()
  const agent = new Agent({ keepAlive: true })
  const queueName = `bench-${kind}-${String(batch)}`
  const { QueueUrl } = (await sqsCall(j.url, agent, 'CreateQueue', {
    QueueName: queueName,
  })) as { QueueUrl: string }
  const client = kind === 'raw' ? rawClient(j.url, QueueUrl) : sdkClient(j.url, QueueUrl)
  // Warm-up: the code paths compiled, the connections open.
  await warmUp(client, batch)

  const latency = new Float64Array(total).fill(NaN)
  let nextSeq = 0
  let sent = 0
  let received = 0
  let deleted = 0
  let duplicates = 0
  let sendFailures = 0
  let deleteFailures = 0
  let errors = 0
  let firstError: string | undefined
  let receives = 0
  let emptyReceives = 0
  let backlogSum = 0
  let backlogMax = 0
  let producing = PRODUCERS
  let lastProgress = performance.now()
  let lastDelete = 0
  let stalled = false
  let freed: (() => void)[] = []
  const fail = (e: unknown) => {
    errors++
    firstError ??= errorText(e)
  }
  const done = () => (producing === 0 && received >= sent) || stalled

  const producer = async () => {
    try {
      while (nextSeq < total && !stalled) {
        if (BACKLOG > 0 && nextSeq - received >= BACKLOG) {
          await new Promise<void>((r) => freed.push(r))
          continue
        }
        const first = nextSeq
        const n = Math.min(batch, total - first)
        nextSeq += n
        const at = performance.now()
        const bodies = Array.from({ length: n }, (_, i) => messageBody(first + i, at))
        try {
          const failed = await client.send(bodies)
          sendFailures += failed
          sent += n - failed
        } catch (e) {
          fail(e)
        }
      }
    } finally {
      producing--
    }
  }
  const consumer = async () => {
    while (!done()) {
      let got: Received[]
      try {
        got = await client.receive(batch, 1)
      } catch (e) {
        fail(e)
        continue
      }
      const at = performance.now()
      receives++
      backlogSum += nextSeq - received
      backlogMax = Math.max(backlogMax, nextSeq - received)
      if (got.length === 0) {
        emptyReceives++
        continue
      }
      lastProgress = at
      for (const m of got) {
        const [seq, sentAt] = readBody(m.body)
        if (!(seq >= 0 && seq < total)) fail(new Error(`a message body not sent: ${m.body}`))
        else if (!Number.isNaN(latency[seq]!)) duplicates++
        else {
          latency[seq] = at - sentAt
          received++
        }
      }
      for (const f of freed.splice(0)) f()
      try {
        const failed = await client.delete(got.map((m) => m.handle))
        deleteFailures += failed
        deleted += got.length - failed
        lastDelete = performance.now()
      } catch (e) {
        fail(e)
      }
    }
  }
  // Stops the loops when nothing has been received for 10 s (messages lost or stuck).
  const watchdog = setInterval(() => {
    if (performance.now() - lastProgress > 10_000 && !done()) {
      stalled = true
      for (const f of freed.splice(0)) f()
    }
  }, 500)

  const session = profileTo ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  loopDelay.enable()
  const end = window(j.writerTids)
  const start = performance.now()
  lastProgress = start
  await Promise.all([
    ...Array.from({ length: PRODUCERS }, producer),
    ...Array.from({ length: CONSUMERS }, consumer),
  ])
  const measured = end()
  loopDelay.disable()
  clearInterval(watchdog)
  if (session && profileTo) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(profileTo, JSON.stringify(profile))
    session.disconnect()
  }
  const seconds = ((lastDelete || performance.now()) - start) / 1000
  const attrs = (await sqsCall(j.url, agent, 'GetQueueAttributes', {
    QueueUrl,
    AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  })) as { Attributes?: Record<string, string> }
  client.close()
  agent.destroy()
  await j.stop()
  freed = []
  return {
    label,
    batch,
    target: total,
    sent,
    received,
    deleted,
    duplicates,
    sendFailures,
    deleteFailures,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    receives,
    emptyReceives,
    seconds,
    rate: deleted / seconds,
    latency: sortedOf(latency.filter((x) => !Number.isNaN(x))),
    backlogMean: backlogSum / Math.max(1, receives),
    backlogMax,
    left: `${attrs.Attributes?.ApproximateNumberOfMessages ?? '?'}/${attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '?'}`,
    stalled,
    window: measured,
    logged: j.logged,
    benchLoopMaxMs: loopDelay.max / 1e6,
  }
}

/** A few hundred messages through the queue before the measured run. */
async function warmUp(client: Client, batch: number): Promise<void> {
  for (let round = 0; round < 20; round++) {
    await Promise.all(
      Array.from({ length: 4 }, () =>
        client.send(Array.from({ length: batch }, () => messageBody(-1, 0))),
      ),
    )
    for (let left = 4 * batch; left > 0;) {
      const got = await client.receive(batch, 1)
      if (got.length === 0) break
      left -= got.length
      for (let i = 0; i < got.length; i += batch)
        await client.delete(got.slice(i, i + batch).map((m) => m.handle))
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 2: raw SQLite

type RawResult = {
  rowsPerSec: number
  messagesPerSec: number
  commitsPerSec: number
  /** CPU time per message, µs (this thread does all the work). */
  cpuUsPerMsg: number
}

/**
 * The store's message statements on a fresh file (schema of migrations.ts, WAL, `sync`), per
 * message one insert, one update (its receive) and one delete; plus the counter bump an insert
 * batch makes. `separate`: `k` messages' inserts, then their updates, then their deletes, each in
 * its own transaction (k rows each). `mixed`: each transaction inserts k new messages, updates
 * the k inserted by the previous one and deletes the k updated by the one before (3k rows), as a
 * group commit mixes sends, receives and deletes.
 */
function rawSqlite(mode: 'separate' | 'mixed', k: number, seconds: number): RawResult {
  const dir = tempDir('junction-queue-raw-')
  const db = new Database(join(dir, 'junction.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${SYNC === 'normal' ? 'NORMAL' : 'FULL'}`)
    for (const m of MIGRATIONS) db.exec(m)
    const insert = db.prepare(
      `INSERT INTO queue_messages (seq, queue_id, id, body, meta, sent_at, visible_at,
         receive_count, first_received_at, receipt, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const seqBump = db.prepare(
      "UPDATE counters SET value = max(value, ?) WHERE name = 'message_seq'",
    )
    const update = db.prepare(
      `UPDATE queue_messages SET queue_id = ?, visible_at = ?, receive_count = ?,
         first_received_at = ?, receipt = ?, received_at = ? WHERE seq = ?`,
    )
    const remove = db.prepare('DELETE FROM queue_messages WHERE seq = ?')
    const queueId = randomUUID()
    const meta = JSON.stringify({ senderId: ACCOUNT })
    let seq = 0
    const insertK = (first: number) => {
      const now = Date.now()
      for (let i = 0; i < k; i++)
        insert.run(
          first + i,
          queueId,
          randomUUID(),
          messageBody(first + i, 0),
          meta,
          now,
          now,
          0,
          null,
          null,
          null,
        )
      seqBump.run(first + k - 1)
    }
    const updateK = (first: number) => {
      const now = Date.now()
      for (let i = 0; i < k; i++)
        update.run(
          queueId,
          now + 30_000,
          1,
          now,
          randomBytes(12).toString('base64url'),
          now,
          first + i,
        )
    }
    const removeK = (first: number) => {
      for (let i = 0; i < k; i++) remove.run(first + i)
    }
    const txInsert = db.transaction(insertK)
    const txUpdate = db.transaction(updateK)
    const txRemove = db.transaction(removeK)
    const txMixed = db.transaction((first: number) => {
      insertK(first)
      if (first - k >= 1) updateK(first - k)
      if (first - 2 * k >= 1) removeK(first - 2 * k)
    })
    let commits = 0
    /** One step: k messages through; returns the commits it made. */
    const step = (): number => {
      const first = seq + 1
      seq += k
      if (mode === 'mixed') {
        txMixed(first)
        return 1
      }
      txInsert(first)
      txUpdate(first)
      txRemove(first)
      return 3
    }
    for (let i = 0; i < 20; i++) step()
    const from = seq
    const cpu0 = process.cpuUsage()
    const start = performance.now()
    let elapsed = 0
    while (elapsed < seconds * 1000) {
      commits += step()
      elapsed = performance.now() - start
    }
    const cpu = process.cpuUsage(cpu0)
    const messages = seq - from
    const perSec = 1000 / elapsed
    return {
      rowsPerSec: messages * 3 * perSec,
      messagesPerSec: messages * perSec,
      commitsPerSec: commits * perSec,
      cpuUsPerMsg: (cpu.user + cpu.system) / messages,
    }
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// 3: long-poll wake-up

type Wakeup = {
  /** Receive answered − send answered (negative: the receive's answer came first). */
  fromSendAnswer: Float64Array
  /** Receive answered − send started. */
  fromSendStart: Float64Array
  sendMs: Float64Array
  /** Baseline, no waiter: SendMessage, ReceiveMessage with the message there, DeleteMessage. */
  plainSendMs: Float64Array
  plainReceiveMs: Float64Array
  plainDeleteMs: Float64Array
  missed: number
  errors: number
  firstError?: string
}

async function wakeups(reps: number): Promise<Wakeup> {
  const j = await startJunction()
  const agent = new Agent({ keepAlive: true })
  const { QueueUrl } = (await sqsCall(j.url, agent, 'CreateQueue', {
    QueueName: 'bench-wakeup',
  })) as { QueueUrl: string }
  // Separate clients (and connections) for the waiting receive and the sender.
  const consumer = rawClient(j.url, QueueUrl)
  const producer = rawClient(j.url, QueueUrl)
  // The SQLite engine's own queue (its waiters), not the service's view of it.
  const engine = j.server.bus.queues
  if (!(engine instanceof Queues)) throw new Error('the wake-up bench needs the SQLite store')
  const live = engine.find({ account: ACCOUNT, region: REGION }, 'bench-wakeup')!
  const out = {
    fromSendAnswer: [] as number[],
    fromSendStart: [] as number[],
    sendMs: [] as number[],
    plainSendMs: [] as number[],
    plainReceiveMs: [] as number[],
    plainDeleteMs: [] as number[],
  }
  let missed = 0
  let errors = 0
  let firstError: string | undefined
  try {
    // The baseline: the same pause, then SendMessage with no receive waiting, ReceiveMessage
    // (the message is there) and DeleteMessage.
    const plain = async (i: number) => {
      await sleep(2)
      const t0 = performance.now()
      await producer.send([messageBody(i, t0)])
      const t1 = performance.now()
      const got = await consumer.receive(1, 0)
      const t2 = performance.now()
      if (got.length !== 1) {
        missed++
        return
      }
      await consumer.delete([got[0]!.handle])
      const t3 = performance.now()
      if (i < 0) return
      out.plainSendMs.push(t1 - t0)
      out.plainReceiveMs.push(t2 - t1)
      out.plainDeleteMs.push(t3 - t2)
    }
    const wake = async (i: number) => {
      let receivedAt = 0
      const waiting = consumer.receive(1, 20).then((got) => {
        receivedAt = performance.now()
        return got
      })
      // Until the receive is waiting in the queue, then the same pause as the baseline's.
      for (let n = 0; live.waiters.length === 0 && n < 10_000; n++)
        await new Promise<void>((r) => setImmediate(r))
      await sleep(2)
      const t0 = performance.now()
      try {
        await producer.send([messageBody(i, t0)])
      } catch (e) {
        errors++
        firstError ??= errorText(e)
      }
      const t1 = performance.now()
      const got = await waiting
      if (got.length !== 1) {
        missed++
        return
      }
      await consumer.delete([got[0]!.handle])
      if (i < 0) return
      out.sendMs.push(t1 - t0)
      out.fromSendAnswer.push(receivedAt - t1)
      out.fromSendStart.push(receivedAt - t0)
    }
    // Interleaved (alternating which goes first), so both see the same machine; 10 unmeasured.
    for (let i = -10; i < reps; i++) {
      if (i % 2 === 0) {
        await plain(i)
        await wake(i)
      } else {
        await wake(i)
        await plain(i)
      }
    }
  } finally {
    consumer.close()
    producer.close()
    agent.destroy()
    await j.stop()
  }
  return {
    fromSendAnswer: sortedOf(out.fromSendAnswer),
    fromSendStart: sortedOf(out.fromSendStart),
    sendMs: sortedOf(out.sendMs),
    plainSendMs: sortedOf(out.plainSendMs),
    plainReceiveMs: sortedOf(out.plainReceiveMs),
    plainDeleteMs: sortedOf(out.plainDeleteMs),
    missed,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// 4: put-event to received through a rule

type PutToReceived = {
  sent: number
  received: number
  duplicates: number
  failedPuts: number
  /** PutEvents start → ReceiveMessage answer. */
  fromPutStart: Float64Array
  /** PutEvents answer → ReceiveMessage answer. */
  fromPutAnswer: Float64Array
  putMs: Float64Array
  receives: number
  window: Window
  benchLoopMaxMs: number
  logged: string[]
}

async function putToReceived(rate: number, seconds: number): Promise<PutToReceived> {
  const j = await startJunction()
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const { QueueUrl } = (await sqsCall(j.url, agent, 'CreateQueue', {
    QueueName: 'bench-events',
  })) as { QueueUrl: string }
  const { Attributes } = (await sqsCall(j.url, agent, 'GetQueueAttributes', {
    QueueUrl,
    AttributeNames: ['QueueArn'],
  })) as { Attributes: { QueueArn: string } }
  await eventsCall(j.url, agent, 'PutRule', {
    Name: 'bench-to-queue',
    EventPattern: JSON.stringify({ source: ['bench.queue'] }),
  })
  await eventsCall(j.url, agent, 'PutTargets', {
    Rule: 'bench-to-queue',
    Targets: [{ Id: 'queue', Arn: Attributes.QueueArn }],
  })
  const client = rawClient(j.url, QueueUrl)

  const total = Math.round(rate * seconds)
  const fromPutStart = new Float64Array(total).fill(NaN)
  const receivedAt = new Float64Array(total).fill(NaN)
  const answeredAt = new Float64Array(total).fill(NaN)
  const putMs: number[] = []
  let received = 0
  let duplicates = 0
  let failedPuts = 0
  let receives = 0
  let consuming = true
  const deletes: Promise<unknown>[] = []

  const consumer = async () => {
    while (consuming) {
      let got: Received[]
      try {
        got = await client.receive(10, 20)
      } catch {
        continue
      }
      const at = performance.now()
      receives++
      for (const m of got) {
        const detail = (JSON.parse(m.body) as { detail: { seq: number; sentAt: number } }).detail
        if (detail.seq < 0) continue
        if (!Number.isNaN(receivedAt[detail.seq]!)) duplicates++
        else {
          receivedAt[detail.seq] = at
          fromPutStart[detail.seq] = at - detail.sentAt
          received++
        }
      }
      // Deletes go out without holding up the next receive.
      if (got.length > 0)
        deletes.push(client.delete(got.map((m) => m.handle)).catch(() => undefined))
    }
  }

  const put = async (firstSeq: number, entries: number): Promise<void> => {
    const sentAt = performance.now()
    const body = JSON.stringify({
      Entries: Array.from({ length: entries }, (_, i) => ({
        Source: 'bench.queue',
        DetailType: 'Bench Message',
        Detail: JSON.stringify({ seq: firstSeq < 0 ? -1 : firstSeq + i, sentAt }),
      })),
    })
    try {
      const { status, text } = await post(
        j.url,
        agent,
        { ...EVENTS_HEADERS, 'x-amz-target': 'AWSEvents.PutEvents' },
        body,
      )
      if (status !== 200 || !text.startsWith('{"FailedEntryCount":0,')) failedPuts += entries
    } catch {
      failedPuts += entries
    }
    const at = performance.now()
    if (firstSeq >= 0) {
      putMs.push(at - sentAt)
      for (let i = 0; i < entries; i++) answeredAt[firstSeq + i] = at
    }
  }

  /** `perSecond` events a second for `count` events, each request on its due time. */
  const paced = async (perSecond: number, count: number, measured: boolean): Promise<void> => {
    const entries = Math.min(PUT_ENTRIES, count)
    const requests = Math.ceil(count / entries)
    const interval = (1000 * entries) / perSecond
    const inFlight: Promise<void>[] = []
    const start = performance.now()
    let sentRequests = 0
    await new Promise<void>((finished) => {
      const tick = () => {
        const due = Math.min(requests, Math.floor((performance.now() - start) / interval) + 1)
        for (; sentRequests < due; sentRequests++) {
          const first = sentRequests * entries
          const n = Math.min(entries, count - first)
          inFlight.push(put(measured ? first : -1, n))
        }
        if (sentRequests >= requests) finished()
        else setTimeout(tick, 1)
      }
      tick()
    })
    await Promise.all(inFlight)
  }

  const consumers = consumer()
  try {
    await paced(Math.min(100, rate), Math.min(100, rate), false)
    await sleep(200)
    const loopDelay = monitorEventLoopDelay({ resolution: 5 })
    loopDelay.enable()
    const end = window(j.writerTids)
    await paced(rate, total, true)
    const deadline = performance.now() + 5000
    while (received < total - failedPuts && performance.now() < deadline) await sleep(20)
    const measured = end()
    loopDelay.disable()
    consuming = false
    await Promise.all(deletes)
    const fromPutAnswer: number[] = []
    for (let i = 0; i < total; i++)
      if (!Number.isNaN(receivedAt[i]!)) fromPutAnswer.push(receivedAt[i]! - answeredAt[i]!)
    return {
      sent: total,
      received,
      duplicates,
      failedPuts,
      fromPutStart: sortedOf(fromPutStart.filter((x) => !Number.isNaN(x))),
      fromPutAnswer: sortedOf(fromPutAnswer),
      putMs: sortedOf(putMs),
      receives,
      window: measured,
      benchLoopMaxMs: loopDelay.max / 1e6,
      logged: j.logged,
    }
  } finally {
    consuming = false
    // Stopping ends the waiting receive (empty).
    await j.stop()
    await consumers
    client.close()
    agent.destroy()
  }
}

// ---------------------------------------------------------------------------------------------
// Run and print

function printRoundTrips(runs: RoundTrip[]): void {
  console.log(
    'variant                    msgs sent/received/deleted      s     msgs/s   p50 ms   p90 ms   p99 ms   max ms  msgs/recv  empty  dup  errors  left',
  )
  for (const r of runs) {
    const counts = `${fmt(r.sent)}/${fmt(r.received)}/${fmt(r.deleted)}`
    console.log(
      `${r.label.padEnd(26)} ${counts.padStart(26)} ${r.seconds.toFixed(1).padStart(6)} ${fmt(r.rate).padStart(10)} ` +
        `${ms(percentile(r.latency, 0.5)).padStart(8)} ${ms(percentile(r.latency, 0.9)).padStart(8)} ` +
        `${ms(percentile(r.latency, 0.99)).padStart(8)} ${ms(r.latency.at(-1) ?? NaN).padStart(8)} ` +
        `${(r.received / Math.max(1, r.receives - r.emptyReceives)).toFixed(1).padStart(10)} ` +
        `${fmt(r.emptyReceives).padStart(6)} ${String(r.duplicates).padStart(4)} ` +
        `${String(r.errors + r.sendFailures + r.deleteFailures).padStart(7)}  ${r.left}`,
    )
  }
  for (const r of runs) {
    const w = r.window
    const perMsg = (x: number) => (x / Math.max(1, r.deleted)) * 1000
    console.log(
      `  ${r.label}: CPU ${(w.cpuMs / 1000).toFixed(1)} s, ${(w.cpuMs / 1000 / w.seconds).toFixed(2)} s/s, ${perMsg(w.cpuMs).toFixed(0)} µs/msg ` +
        `(main ${perMsg(w.mainMs).toFixed(0)}, writer ${perMsg(w.writerMs).toFixed(0)}, other ${perMsg(w.otherMs).toFixed(0)}); ` +
        `event loop ${(100 * w.elu).toFixed(0)}% busy, longest stall ${ms(r.benchLoopMaxMs)} ms`,
    )
    console.log(
      `      commits ${fmt(w.commits / w.seconds)}/s, writes/commit ${(w.committedWrites / Math.max(1, w.commits)).toFixed(1)}, ` +
        `rows/commit mean ${(w.rows / Math.max(1, w.commits)).toFixed(1)} (p50 ${String(percentile(w.rowsPerCommit, 0.5))}, ` +
        `p90 ${String(percentile(w.rowsPerCommit, 0.9))}), write posted→committed p50 ${ms(percentile(w.ackMs, 0.5))} ms, ` +
        `p99 ${ms(percentile(w.ackMs, 0.99))} ms; backlog (sent, not received) mean ${fmt(r.backlogMean)}, max ${fmt(r.backlogMax)}`,
    )
    const problems = [
      r.stalled
        ? `stalled: nothing received for 10 s with ${fmt(r.sent - r.received)} sent messages missing`
        : '',
      r.received < r.sent && !r.stalled
        ? `${fmt(r.sent - r.received)} sent messages never received`
        : '',
      r.firstError ? `first error: ${r.firstError}` : '',
      w.failedWrites > 0 ? `${String(w.failedWrites)} store writes failed` : '',
      r.logged.length > 0
        ? `${String(r.logged.length)} server log lines at warn+, first: ${r.logged[0]!.slice(0, 300)}`
        : '',
    ].filter(Boolean)
    for (const p of problems) console.log(`      !! ${p}`)
  }
}

async function main(): Promise<void> {
  const phases = (process.argv[process.argv.indexOf('--only') + 1] ?? '').split(',')
  const want = (name: string) => !process.argv.includes('--only') || phases.includes(name)
  console.log(
    `machine: ${String(cpus().length)} CPUs, 1-minute load average ${loadavg()[0]!.toFixed(1)} at the start; ` +
      `server in this process (startServer), SQLite sync ${SYNC.toUpperCase()}, ${String(BODY_BYTES)}-byte bodies`,
  )

  // Raw SQLite runs right before and right after the batched round trip: other processes'
  // disk traffic moves fsync times a lot on these machines, so the two are compared close together.
  const runs: RoundTrip[] = []
  const raw: { label: string; r: RawResult }[] = []
  const wantRaw = want('raw') && RAW_SECONDS > 0
  let batched: RoundTrip | undefined
  let groupK = 0
  if (wantRaw)
    raw.push({ label: '10 rows each, before', r: rawSqlite('separate', 10, RAW_SECONDS) })
  if (want('roundtrip')) {
    if (MESSAGES > 0) {
      batched = await roundTrip('raw JSON 1.0, batch 10', MESSAGES, 10, 'raw')
      runs.push(batched)
    }
    if (wantRaw) {
      raw.push({ label: '10 rows each, after', r: rawSqlite('separate', 10, RAW_SECONDS) })
      if (batched && batched.window.commits > 0) {
        groupK = Math.max(1, Math.round(batched.window.rows / batched.window.commits / 3))
        raw.push({
          label: `${String(3 * groupK)} rows each, mixed (group commit's mean)`,
          r: rawSqlite('mixed', groupK, RAW_SECONDS),
        })
      }
    }
    if (SINGLE > 0) runs.push(await roundTrip('raw JSON 1.0, single', SINGLE, 1, 'raw'))
    if (SDK_MESSAGES > 0)
      runs.push(await roundTrip('SDK v3 client, batch 10', SDK_MESSAGES, 10, 'sdk'))
    console.log(
      `\n1. round trip, sent → deleted: ${String(PRODUCERS)} producers, ${String(CONSUMERS)} consumers ` +
        `(WaitTimeSeconds 1), producers pause at ${fmt(BACKLOG)} messages sent and not received`,
    )
    printRoundTrips(runs)
  }
  const single = runs.find((r) => r.batch === 1)

  /** Raw msgs/s in 10-row transactions, right before and right after the batched round trip. */
  const tenRows = raw.filter((x) => x.label.startsWith('10 rows'))
  const rawGroup = raw.find((x) => x.label.includes('mixed'))?.r
  if (raw.length > 0) {
    console.log(
      `\n2. raw SQLite in this process (better-sqlite3, migrations.ts schema, WAL, sync ${SYNC.toUpperCase()}, fresh file; ` +
        `per message an insert, the receive's update and a delete; ${String(RAW_SECONDS)} s each, ` +
        `right before and after the batched round trip)`,
    )
    console.log(
      'transactions                                      rows/s     msgs/s   commits/s   ms/commit   CPU µs/msg',
    )
    for (const { label, r } of raw)
      console.log(
        `${label.padEnd(44)} ${fmt(r.rowsPerSec).padStart(10)} ${fmt(r.messagesPerSec).padStart(10)} ` +
          `${fmt(r.commitsPerSec).padStart(11)} ${ms(1000 / r.commitsPerSec).padStart(11)} ${r.cpuUsPerMsg.toFixed(0).padStart(12)}`,
      )
  }

  let wake: Wakeup | undefined
  if (want('wakeup') && WAKEUPS > 0) {
    console.log(
      `\n3. long-poll wake-up: ReceiveMessage (WaitTimeSeconds 20) waiting on an empty queue, then one SendMessage; ${String(WAKEUPS)} times`,
    )
    wake = await wakeups(WAKEUPS)
    console.log(`${''.padEnd(48)}   p50 ms   p90 ms   p99 ms   max ms`)
    const line = (label: string, xs: Float64Array) =>
      console.log(
        `${label.padEnd(48)} ${ms(percentile(xs, 0.5)).padStart(8)} ${ms(percentile(xs, 0.9)).padStart(8)} ` +
          `${ms(percentile(xs, 0.99)).padStart(8)} ${ms(xs.at(-1) ?? NaN).padStart(8)}`,
      )
    line('receive answered − send answered', wake.fromSendAnswer)
    line('receive answered − send started', wake.fromSendStart)
    line('SendMessage round trip (a receive waiting)', wake.sendMs)
    line('baseline: SendMessage round trip, none waiting', wake.plainSendMs)
    line('baseline: ReceiveMessage (message there)', wake.plainReceiveMs)
    line('baseline: DeleteMessage round trip', wake.plainDeleteMs)
    if (wake.missed > 0 || wake.errors > 0)
      console.log(
        `  !! ${String(wake.missed)} receives came back empty, ${String(wake.errors)} errors ${wake.firstError ?? ''}`,
      )
  }

  let ptr: PutToReceived | undefined
  if (want('put') && RATE > 0 && PUT_SECONDS > 0) {
    console.log(
      `\n4. put-event → received: a rule on the default bus, its target a queue; ${fmt(RATE)} events/s ` +
        `for ${String(PUT_SECONDS)} s (${String(PUT_ENTRIES)} per PutEvents, paced), one consumer long-polling (max 10, deletes not awaited)`,
    )
    ptr = await putToReceived(RATE, PUT_SECONDS)
    const w = ptr.window
    console.log(
      'received/sent   dup  failed puts                     p50 ms   p90 ms   p99 ms   max ms',
    )
    const line = (head: string, label: string, xs: Float64Array) =>
      console.log(
        `${head.padEnd(31)} ${label.padEnd(16)} ${ms(percentile(xs, 0.5)).padStart(8)} ${ms(percentile(xs, 0.9)).padStart(8)} ` +
          `${ms(percentile(xs, 0.99)).padStart(8)} ${ms(xs.at(-1) ?? NaN).padStart(8)}`,
      )
    line(
      `${`${fmt(ptr.received)}/${fmt(ptr.sent)}`.padEnd(13)} ${String(ptr.duplicates).padStart(5)} ${String(ptr.failedPuts).padStart(12)}`,
      'from put start',
      ptr.fromPutStart,
    )
    line('', 'from put answer', ptr.fromPutAnswer)
    line('', 'PutEvents', ptr.putMs)
    console.log(
      `  CPU ${(w.cpuMs / 1000 / w.seconds).toFixed(2)} s/s (main ${(w.mainMs / 1000 / w.seconds).toFixed(2)}, ` +
        `writer ${(w.writerMs / 1000 / w.seconds).toFixed(2)}), event loop ${(100 * w.elu).toFixed(0)}% busy; ` +
        `commits ${fmt(w.commits / w.seconds)}/s, rows/commit ${(w.rows / Math.max(1, w.commits)).toFixed(1)}, ` +
        `write posted→committed p50 ${ms(percentile(w.ackMs, 0.5))} ms p99 ${ms(percentile(w.ackMs, 0.99))} ms; ` +
        `${fmt(ptr.received / Math.max(1, ptr.receives))} events per receive; longest stall ${ms(ptr.benchLoopMaxMs)} ms`,
    )
    if (ptr.logged.length > 0)
      console.log(
        `  !! ${String(ptr.logged.length)} server log lines at warn+, first: ${ptr.logged[0]!.slice(0, 300)}`,
      )
  }

  if (PROFILE && MESSAGES > 0) {
    const dir = tempDir('junction-queue-prof-')
    const file = join(dir, 'roundtrip.cpuprofile')
    await roundTrip('profiled', Math.min(MESSAGES, 50_000), 10, 'raw', file)
    console.log(
      '\nCPU profile of the main thread, batched round trip (server, engine and this client; the writer thread is not in it):',
    )
    for (const l of summarizeProfile(file, 25)) console.log(l)
    console.log(`  profile kept in ${file}`)
  }

  console.log('\nratios and aims (same run)')
  const ratio = (label: string, value: string) => console.log(`  ${label.padEnd(56)} ${value}`)
  if (batched) {
    ratio('batched round trip, msgs/s', `${fmt(batched.rate)}  (aim >= 5,000)`)
    if (tenRows.length > 0)
      ratio(
        `  / raw SQLite msgs/s, 10-row transactions, ${tenRows.map((x) => x.label.slice(14)).join(' / ')}`,
        tenRows.map((x) => (batched.rate / x.r.messagesPerSec).toFixed(2)).join(' / '),
      )
    if (rawGroup)
      ratio(
        `  / raw SQLite msgs/s, ${String(3 * groupK)}-row mixed transactions`,
        (batched.rate / rawGroup.messagesPerSec).toFixed(2),
      )
    const cpuPerMsg = (batched.window.cpuMs / Math.max(1, batched.deleted)) * 1000
    if (rawGroup)
      ratio(
        `CPU µs/msg, Junction (all threads) / raw ${String(3 * groupK)}-row mixed`,
        `${cpuPerMsg.toFixed(0)} / ${rawGroup.cpuUsPerMsg.toFixed(0)} = ${(cpuPerMsg / rawGroup.cpuUsPerMsg).toFixed(1)}`,
      )
    if (single)
      ratio('single-message round trip / batched', (single.rate / batched.rate).toFixed(2))
    const sdk = runs.find((r) => r.label.startsWith('SDK'))
    if (sdk) ratio('SDK client batched / raw batched', (sdk.rate / batched.rate).toFixed(2))
  }
  if (wake) {
    ratio(
      "long-poll wake-up after the send's answer, p50/p99",
      `${ms(percentile(wake.fromSendAnswer, 0.5))}/${ms(percentile(wake.fromSendAnswer, 0.99))} ms  (aim < 5 ms)`,
    )
    ratio(
      'receive answered − send started / SendMessage round trip, p50',
      (percentile(wake.fromSendStart, 0.5) / percentile(wake.plainSendMs, 0.5)).toFixed(2),
    )
  }
  if (ptr)
    ratio(
      'put-event → received, p50/p99',
      `${ms(percentile(ptr.fromPutStart, 0.5))}/${ms(percentile(ptr.fromPutStart, 0.99))} ms`,
    )
  console.log(
    `\ntotal ${((performance.now() - began) / 1000).toFixed(0)} s; 1-minute load average ${loadavg()[0]!.toFixed(1)} at the end`,
  )
}

try {
  await main()
} finally {
  for (const j of [...running]) await j.stop()
}
