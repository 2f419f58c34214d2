/**
 * "Nothing lost": every event PutEvents acknowledged reaches its API destination, even when the
 * server dies (kill -9) or stops (SIGTERM) in the middle of a load, with deliveries in flight or
 * waiting for a retry. Acknowledged events may arrive more than once (at least once), and events
 * whose request died with the server may arrive too; both are counted, neither is a failure.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

const ACCOUNT = '111111111111'
const SOURCE = 'crash.test'
/**
 * How long the sink holds each delivery in the load tests: with the dispatcher's 256 invocations
 * in flight this is slower than the load, so at the signal some deliveries are in flight and
 * others still queued.
 */
const DELAY_MS = 300

// ── processes to clean up, whatever happens ────────────────────────────────────────────────────

const servers: ServerProcess[] = []
const sinks: Sink[] = []
const loads: Load[] = []
const dataDirs: string[] = []

after(async () => {
  const stopped = Promise.all(loads.map((l) => l.stop()))
  for (const s of servers)
    if (s.child.exitCode === null && s.child.signalCode === null) await s.kill()
  await stopped
  for (const s of sinks) await s.close()
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true })
})

function dataDir(): string {
  const d = tempDir('junction-crash-')
  dataDirs.push(d)
  return d
}

async function start(dir: string, args: string[] = []): Promise<ServerProcess> {
  const s = await startServerProcess({ dataDir: dir, args })
  servers.push(s)
  return s
}

// ── the API, over plain fetch ──────────────────────────────────────────────────────────────────

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${String(status)} ${body}`)
  }
}

/** `HTTP 500 InternalException`, `ECONNRESET`, …: what a request that got no EventIds met. */
function failureKind(e: unknown): string {
  if (e instanceof HttpError) {
    let type = ''
    try {
      type = String((JSON.parse(e.body) as { __type?: unknown }).__type)
    } catch {
      // not JSON
    }
    return `HTTP ${String(e.status)} ${type}`
  }
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined
  return typeof cause?.code === 'string' ? cause.code : String(e).slice(0, 80)
}

async function call(
  url: string,
  op: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${op}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=x`,
    },
    body: JSON.stringify(input),
  })
  const text = await res.text()
  if (res.status !== 200) throw new HttpError(res.status, text)
  return JSON.parse(text) as Record<string, unknown>
}

/** A connection, an API destination to the sink, a rule on the default bus and its target. */
async function configure(url: string, sinkUrl: string, ratePerSecond = 10_000): Promise<void> {
  const conn = await call(url, 'CreateConnection', {
    Name: 'crash-conn',
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-k', ApiKeyValue: 'v' } },
  })
  const dest = await call(url, 'CreateApiDestination', {
    Name: 'crash-dest',
    ConnectionArn: conn.ConnectionArn,
    InvocationEndpoint: `${sinkUrl}/events`,
    HttpMethod: 'POST',
    InvocationRateLimitPerSecond: ratePerSecond,
  })
  await call(url, 'PutRule', {
    Name: 'crash-rule',
    EventPattern: JSON.stringify({ source: [SOURCE] }),
  })
  const put = await call(url, 'PutTargets', {
    Rule: 'crash-rule',
    Targets: [
      {
        Id: 'sink',
        Arn: dest.ApiDestinationArn,
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/crash`,
      },
    ],
  })
  assert.equal(put.FailedEntryCount, 0)
}

// ── the sink: records every delivered envelope ─────────────────────────────────────────────────

type Sink = {
  url: string
  /** Envelope id → how many requests carried it. */
  counts: Map<string, number>
  /** Envelope id → the `seq` in its detail. */
  seqOf: Map<string, number>
  /** Envelope id → how many requests were answered 2xx. */
  successes: Map<string, number>
  requests: number
  /** Requests received and not answered yet. */
  open: number
  /** Requests whose body was not an envelope of this test. */
  foreign: number
  /** Waits until every id in `ids` was answered 2xx; resolves with those still missing after `timeoutMs`. */
  waitForDelivered(ids: Iterable<string>, timeoutMs: number): Promise<string[]>
  close(): Promise<void>
}

/**
 * `status(id, n)` answers the n-th request (1-based) carrying envelope `id`; `delayMs` holds each
 * answer back, so that deliveries are in flight most of the time.
 */
async function startSink(
  options: { delayMs?: number; status?: (id: string, n: number) => number } = {},
): Promise<Sink> {
  const delayMs = options.delayMs ?? 0
  const status = options.status ?? (() => 200)
  const sink: Omit<Sink, 'url' | 'waitForDelivered' | 'close'> = {
    counts: new Map(),
    seqOf: new Map(),
    successes: new Map(),
    requests: 0,
    open: 0,
    foreign: 0,
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      sink.requests++
      let id: string | undefined
      let code = 200
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          id?: unknown
          source?: unknown
          detail?: { seq?: unknown }
        }
        if (typeof body.id === 'string' && body.source === SOURCE) {
          id = body.id
          const n = (sink.counts.get(id) ?? 0) + 1
          sink.counts.set(id, n)
          if (typeof body.detail?.seq === 'number') sink.seqOf.set(id, body.detail.seq)
          code = status(id, n)
        } else sink.foreign++
      } catch {
        sink.foreign++
      }
      if (id !== undefined && code >= 200 && code <= 299)
        sink.successes.set(id, (sink.successes.get(id) ?? 0) + 1)
      sink.open++
      const answer = () => {
        sink.open--
        if (res.destroyed) return
        res.writeHead(code, { 'content-type': 'application/json' })
        res.end('{}')
      }
      if (delayMs > 0) setTimeout(answer, delayMs)
      else answer()
    })
    req.on('error', () => {
      // The bus died mid-request; what arrived is recorded already.
    })
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  const port = (server.address() as AddressInfo).port
  const result: Sink = Object.assign(sink, {
    url: `http://127.0.0.1:${String(port)}`,
    async waitForDelivered(ids: Iterable<string>, timeoutMs: number) {
      const list = [...ids]
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const missing = list.filter((id) => !sink.successes.has(id))
        if (missing.length === 0 || Date.now() >= deadline) return missing
        await sleep(50)
      }
    },
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections()
        server.close(() => {
          res()
        })
      }),
  })
  sinks.push(result)
  return result
}

// ── the load: concurrent PutEvents clients ─────────────────────────────────────────────────────

type Load = {
  /** EventId → seq, for every entry of every request answered with FailedEntryCount 0. */
  acked: Map<string, number>
  /** Seqs of entries whose request got no (or no clean) answer. */
  unacked: Set<number>
  requests: number
  /** Requests sent and not answered yet. */
  inFlight: number
  /** Why requests got no EventIds, with how many: `HTTP 500 InternalException`, `ECONNRESET`… */
  failures: Map<string, number>
  /** Stops sending; resolves when every client has finished its last request. */
  stop(): Promise<void>
}

function runLoad(url: string, clients: number, entriesPerRequest = 10): Load {
  let running = true
  let nextSeq = 0
  const load: Omit<Load, 'stop'> = {
    acked: new Map(),
    unacked: new Set(),
    requests: 0,
    inFlight: 0,
    failures: new Map(),
  }
  const fail = (seqs: number[], kind: string) => {
    for (const s of seqs) load.unacked.add(s)
    load.failures.set(kind, (load.failures.get(kind) ?? 0) + 1)
  }
  const client = async () => {
    while (running) {
      const seqs = Array.from({ length: entriesPerRequest }, () => nextSeq++)
      const entries = seqs.map((seq) => ({
        Source: SOURCE,
        DetailType: 'crash',
        Detail: JSON.stringify({ seq }),
      }))
      load.requests++
      load.inFlight++
      try {
        const out = await call(url, 'PutEvents', { Entries: entries })
        const results = out.Entries as { EventId?: string }[]
        if (out.FailedEntryCount === 0 && results.length === seqs.length) {
          results.forEach((r, i) => {
            assert.ok(r.EventId)
            load.acked.set(r.EventId, seqs[i]!)
          })
        } else fail(seqs, `FailedEntryCount ${String(out.FailedEntryCount)}`)
      } catch (e) {
        fail(seqs, failureKind(e))
        await sleep(5) // the server is going away: no busy loop
      } finally {
        load.inFlight--
      }
    }
  }
  const done = Promise.all(Array.from({ length: clients }, client))
  const result: Load = Object.assign(load, {
    async stop() {
      running = false
      await done
    },
  })
  loads.push(result)
  return result
}

// ── the check ──────────────────────────────────────────────────────────────────────────────────

/** Polls `ready` every few milliseconds; false if it never held within `timeoutMs`. */
async function until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!ready()) {
    if (Date.now() >= deadline) return false
    await sleep(2)
  }
  return true
}

/** Acknowledged events not answered 2xx by the sink yet. */
function owed(load: Load, sink: Sink): number {
  let n = 0
  for (const id of load.acked.keys()) if (!sink.successes.has(id)) n++
  return n
}

/** What was in flight when the server was signalled. */
function snapshot(load: Load, sink: Sink) {
  return {
    requestsSent: load.requests,
    putEventsInFlight: load.inFlight,
    acknowledged: load.acked.size,
    deliveriesInFlight: sink.open,
    acknowledgedNotDelivered: owed(load, sink),
  }
}

function report(t: TestContext, label: string, figures: Record<string, unknown>): void {
  t.diagnostic(`${label}: ${JSON.stringify(figures)}`)
}

/** The sum of a counter's series in the server's /metrics (0 when it has none yet). */
async function metric(server: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  return sum
}

/**
 * Waits for every acknowledged event at the sink and for the restarted server to finish every
 * delivery it resumed (so that the duplicates are all counted), then checks and reports.
 */
async function assertNothingLost(
  t: TestContext,
  load: Load,
  sink: Sink,
  server: ServerProcess,
  timeoutMs = 30_000,
): Promise<{ resumedJobs: number }> {
  const started = Date.now()
  const missing = await sink.waitForDelivered(load.acked.keys(), timeoutMs)
  const drainMs = Date.now() - started
  const resumedJobs = resumed(server)
  let finished = await metric(server, 'Invocations')
  while (finished < resumedJobs && Date.now() < started + timeoutMs) {
    await sleep(50)
    finished = await metric(server, 'Invocations')
  }
  const failedForGood = await metric(server, 'FailedInvocations')
  let duplicates = 0
  for (const n of sink.successes.values()) if (n > 1) duplicates++
  const unackedDelivered = [...sink.successes.keys()].filter((id) => !load.acked.has(id))
  report(t, 'after the restart', {
    acknowledged: load.acked.size,
    delivered: load.acked.size - missing.length,
    missing: missing.length,
    duplicates,
    unacknowledgedButDelivered: unackedDelivered.length,
    sinkRequests: sink.requests,
    unacknowledgedRequests: Object.fromEntries(load.failures),
    resumedJobs,
    resumedJobsFinished: finished,
    drainMs,
  })
  assert.deepEqual(
    missing.slice(0, 5),
    [],
    `${String(missing.length)} of ${String(load.acked.size)} acknowledged events never arrived`,
  )
  assert.equal(sink.foreign, 0, 'the sink got bodies that are not envelopes of this test')
  assert.equal(failedForGood, 0, 'deliveries failed for good after the restart')
  assert.ok(
    finished >= resumedJobs,
    `the restart resumed ${String(resumedJobs)} deliveries but finished ${String(finished)}`,
  )
  // Every delivered envelope carries the detail it was sent with.
  for (const [id, seq] of load.acked) assert.equal(sink.seqOf.get(id), seq, `detail of ${id}`)
  // Events nobody acknowledged may arrive, but only those of requests that went unanswered.
  for (const id of unackedDelivered) {
    const seq = sink.seqOf.get(id)
    assert.ok(
      seq !== undefined && load.unacked.has(seq),
      `event ${id} (seq ${String(seq)}) from nowhere`,
    )
  }
  return { resumedJobs }
}

function resumed(server: ServerProcess): number {
  return Number(/"pending":(\d+)[^\n]*resuming deliveries/.exec(server.output())?.[1] ?? 0)
}

/** A server on a fresh data dir, configured to deliver to `sink`, under a load of 8 clients. */
async function loaded(sink: Sink) {
  const dir = dataDir()
  const server = await start(dir)
  await configure(server.url, sink.url)
  const load = runLoad(server.url, 8)
  assert.ok(await until(() => load.acked.size > 0, 15_000), 'no PutEvents answered')
  await sleep(1500)
  // Signal the server at an instant when both requests and deliveries are in flight.
  const busy = await until(() => load.inFlight > 0 && sink.open > 0 && owed(load, sink) > 0, 5000)
  assert.ok(busy, 'no delivery in flight after 1.5 s of load')
  return { dir, server, load }
}

// ── the tests ──────────────────────────────────────────────────────────────────────────────────

test('kill -9 under load loses no acknowledged event', { timeout: 90_000 }, async (t) => {
  const sink = await startSink({ delayMs: DELAY_MS })
  const { dir, server: first, load } = await loaded(sink)
  const before = snapshot(load, sink)
  await first.kill()
  await load.stop()
  await sleep(100) // deliveries the dead server had already written are read by the sink
  report(t, 'at the kill', { ...before, acknowledgedNotDeliveredAtRestart: owed(load, sink) })

  const second = await start(dir)
  const { resumedJobs } = await assertNothingLost(t, load, sink, second)
  // Deliveries were in flight at the kill: their jobs were still in the store.
  assert.ok(resumedJobs > 0, 'the restart found no delivery to resume')
  await second.kill()
})

test(
  'SIGTERM under load exits 0 and loses no acknowledged event',
  { timeout: 90_000 },
  async (t) => {
    const sink = await startSink({ delayMs: DELAY_MS })
    const { dir, server: first, load } = await loaded(sink)
    const before = snapshot(load, sink)
    const stopping = Date.now()
    const code = await first.stop()
    const stopMs = Date.now() - stopping
    await load.stop()
    report(t, 'at SIGTERM', {
      ...before,
      exitCode: code,
      stopMs,
      acknowledgedNotDeliveredAtRestart: owed(load, sink),
    })
    assert.equal(code, 0, `exit code ${String(code)}; output:\n${first.output().slice(-2000)}`)
    assert.doesNotMatch(first.output(), /"level":(50|60)/, 'errors logged during the stop')

    const second = await start(dir)
    await assertNothingLost(t, load, sink, second)
    await second.kill()
  },
)

test(
  'kill -9 while deliveries wait for a retry: they are retried after the restart',
  { timeout: 90_000 },
  async (t) => {
    const FAILURES = 2
    const sink = await startSink({ status: (_id, n) => (n <= FAILURES ? 500 : 200) })
    const dir = dataDir()
    const first = await start(dir)
    await configure(first.url, sink.url)

    const load = runLoad(first.url, 2)
    const acked = await until(() => load.acked.size >= 20, 15_000)
    await load.stop()
    assert.ok(acked, 'PutEvents not answered')
    const ids = [...load.acked.keys()]
    // Every event fails once at once; the first retries come 0.5–1 s later. Crash in the middle
    // of them: some events have failed twice, the others once.
    const attempts = () => ids.map((id) => sink.counts.get(id) ?? 0)
    const mixed = await until(
      () => attempts().filter((n) => n === 2).length >= ids.length / 4,
      10_000,
    )
    const atKill = attempts()
    await first.kill()
    report(t, 'at the kill', { events: ids.length, attempts: histogram(atKill) })
    assert.ok(mixed, 'the first retries did not come')
    assert.ok(
      atKill.every((n) => n >= 1 && n <= FAILURES),
      'every event should have failed at least once, and none should have been delivered yet',
    )

    const second = await start(dir)
    const { resumedJobs } = await assertNothingLost(t, load, sink, second, 20_000)
    assert.equal(resumedJobs, ids.length, 'every event was owed a delivery at the kill')
    for (const id of ids)
      assert.ok((sink.counts.get(id) ?? 0) > FAILURES, `${id} delivered before its failures`)
    report(t, 'attempts per event', histogram(attempts()))
    await second.kill()
  },
)

test(
  'kill -9 while a backlog 40 times the delivery window drains: paged back in, nothing lost',
  { timeout: 120_000 },
  async (t) => {
    const WINDOW = ['--delivery-window', '500']
    const BACKLOG = 20_000
    const sink = await startSink()
    const dir = dataDir()
    const first = await start(dir, WINDOW)
    // One invocation a second while the backlog builds: the jobs wait (throttled in memory, or
    // in the store beyond the window) without a delivery attempt being spent on them.
    await configure(first.url, sink.url, 1)
    const load = runLoad(first.url, 8)
    const filled = await until(() => load.acked.size >= BACKLOG, 60_000)
    await load.stop()
    assert.ok(filled, `only ${String(load.acked.size)} events acknowledged`)
    // Open the tap: the window drains at full speed, paging the backlog in behind it.
    await call(first.url, 'UpdateApiDestination', {
      Name: 'crash-dest',
      InvocationRateLimitPerSecond: 10_000,
    })
    const midway = await until(() => sink.successes.size >= load.acked.size / 4, 30_000)
    const before = snapshot(load, sink)
    await first.kill()
    await sleep(100)
    report(t, 'at the kill', { ...before, acknowledgedNotDeliveredAtRestart: owed(load, sink) })
    assert.ok(midway, 'the drain did not start')
    assert.ok(before.acknowledgedNotDelivered > 5000, 'the kill came after most of the drain')

    const second = await start(dir, WINDOW)
    const { resumedJobs } = await assertNothingLost(t, load, sink, second, 60_000)
    assert.ok(resumedJobs > 5000, `only ${String(resumedJobs)} jobs were pending at the restart`)
    await second.kill()
  },
)

function histogram(values: number[]): Record<string, number> {
  const h: Record<string, number> = {}
  for (const v of values) h[String(v)] = (h[String(v)] ?? 0) + 1
  return h
}
