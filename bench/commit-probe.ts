/**
 * Preloaded into the Junction server child by `bench:ingest` (`node --import tsx --import
 * ./bench/commit-probe.ts src/cli/main.ts serve …`), without touching `src/`: wraps
 * better-sqlite3's `transaction` and `Statement#run` to see what group commit does.
 *
 * On every SIGUSR2 it writes one line to stderr, `PROBE {json}`, with the figures since the
 * previous SIGUSR2 (or the start), then starts a new window: commits, event rows, delivery rows
 * inserted and deleted, events per commit (sorted list), time spent inside transactions
 * (statements + COMMIT, whose fsync blocks the event loop), event-loop utilization, the event
 * loop's delay (p50, p99, max), and CPU time (all threads, `systemMs` the kernel's part;
 * `mainCpuMs` the main thread's alone).
 * The cost is one extra function call per statement and per transaction.
 */
import Database from 'better-sqlite3'
import { readFileSync, writeSync } from 'node:fs'
import {
  monitorEventLoopDelay,
  performance,
  type EventLoopUtilization,
  type IntervalHistogram,
} from 'node:perf_hooks'

/** CPU time of the main thread (HTTP, ingest, delivery), ms, from /proc. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${String(process.pid)}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100
  } catch {
    return NaN
  }
}

type Kind = 'event' | 'job' | 'finish' | 'other'
type Runnable = { source: string; run: (...args: unknown[]) => unknown }
type TxnFactory = (fn: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown

const kinds = new WeakMap<object, Kind>()
function kindOf(stmt: Runnable): Kind {
  let k = kinds.get(stmt)
  if (k === undefined) {
    const s = stmt.source
    k = s.startsWith('INSERT INTO events')
      ? 'event'
      : s.startsWith('INSERT INTO deliveries')
        ? 'job'
        : s.startsWith('DELETE FROM deliveries')
          ? 'finish'
          : 'other'
    kinds.set(stmt, k)
  }
  return k
}

const counts = { event: 0, job: 0, finish: 0, other: 0 }

const scratch = new Database(':memory:')
const statementProto = Object.getPrototypeOf(scratch.prepare('SELECT 1')) as Runnable
scratch.close()
const run = statementProto.run
statementProto.run = function (this: Runnable, ...args: unknown[]) {
  counts[kindOf(this)]++
  return run.apply(this, args)
}

type Window = {
  start: number
  elu: EventLoopUtilization
  cpu: NodeJS.CpuUsage
  mainCpuMs: number
  loopDelay: IntervalHistogram
  commits: number
  eventsPerCommit: number[]
  txnMs: number
  maxTxnMs: number
  events: number
  jobs: number
  finishes: number
}
const open = (): Window => {
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  return {
    start: performance.now(),
    elu: performance.eventLoopUtilization(),
    cpu: process.cpuUsage(),
    mainCpuMs: mainThreadCpuMs(),
    loopDelay,
    commits: 0,
    eventsPerCommit: [],
    txnMs: 0,
    maxTxnMs: 0,
    events: 0,
    jobs: 0,
    finishes: 0,
  }
}
let w = open()

const proto = Database.prototype as unknown as { transaction: TxnFactory }
const transaction = proto.transaction
proto.transaction = function (this: unknown, fn) {
  const txn = transaction.call(this, fn)
  return (...args: unknown[]) => {
    const e = counts.event
    const j = counts.job
    const f = counts.finish
    const t = performance.now()
    try {
      return txn(...args)
    } finally {
      const ms = performance.now() - t
      w.commits++
      w.txnMs += ms
      if (ms > w.maxTxnMs) w.maxTxnMs = ms
      w.events += counts.event - e
      w.jobs += counts.job - j
      w.finishes += counts.finish - f
      if (counts.event > e) w.eventsPerCommit.push(counts.event - e)
    }
  }
}

process.on('SIGUSR2', () => {
  const seconds = (performance.now() - w.start) / 1000
  const cpu = process.cpuUsage(w.cpu)
  const report = {
    seconds,
    commits: w.commits,
    events: w.events,
    jobs: w.jobs,
    finishes: w.finishes,
    eventsPerCommit: w.eventsPerCommit.sort((a, b) => a - b),
    txnMs: w.txnMs,
    maxTxnMs: w.maxTxnMs,
    elu: performance.eventLoopUtilization(w.elu).utilization,
    cpuMs: (cpu.user + cpu.system) / 1000,
    systemMs: cpu.system / 1000,
    mainCpuMs: mainThreadCpuMs() - w.mainCpuMs,
    // The server's own event-loop delay (what a request or delivery waits for the thread), ms.
    loopDelayMs: [0.5, 0.99, 1].map((q) =>
      q === 1 ? w.loopDelay.max / 1e6 : w.loopDelay.percentile(q * 100) / 1e6,
    ),
  }
  w.loopDelay.disable()
  writeSync(2, `PROBE ${JSON.stringify(report)}\n`)
  w = open()
})
