/**
 * "Nothing lost": every event PutEvents acknowledged reaches its API destination, even when the
 * server dies (kill -9) or stops (SIGTERM) in the middle of a load, with deliveries in flight or
 * waiting for a retry. Acknowledged events may arrive more than once (at least once), and events
 * whose request died with the server may arrive too; both are counted, neither is a failure.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  call,
  closeEventLoad,
  configure,
  owed,
  report,
  runLoad,
  snapshot,
  startSink,
  until,
  type Load,
  type Sink,
} from '../helpers/event-load.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

/**
 * How long the sink holds each delivery in the load tests: with the dispatcher's 256 invocations
 * in flight this is slower than the load, so at the signal some deliveries are in flight and
 * others still queued.
 */
const DELAY_MS = 300

// ── processes to clean up, whatever happens ────────────────────────────────────────────────────

const servers: ServerProcess[] = []
const dataDirs: string[] = []

after(async () => {
  const stopped = closeEventLoad()
  for (const s of servers)
    if (s.child.exitCode === null && s.child.signalCode === null) await s.kill()
  await stopped
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
