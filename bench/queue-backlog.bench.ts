/**
 * `npm run bench:queue-backlog`: one queue holding a large backlog (`--messages`, 1,000,000),
 * what a restart costs with it, and how fast it then drains. Prints figures; asserts nothing.
 *
 * 1. Fill (a child process): the queue engine on a SQLite store in a temp dir (sync NORMAL, so
 *    the fill is quick), sends of 10,000 messages of `--body-bytes` (256) straight into the
 *    engine, no HTTP.
 * 2. Restart (a fresh child process, so RSS is the restarted server's alone): `startServer`
 *    (sync FULL, `--window`, default 10,000) on that store; the time from the call to listening,
 *    RSS and heap then, GetQueueAttributes, and the time of one page read (1,000 rows, on the
 *    store's read connection, after the engine's own first pages).
 * 3. Drain: receive (10 at a time) and delete `--drain` (100,000) messages through the engine,
 *    in 8 concurrent loops; messages/s, and RSS and heap at the end.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pino } from 'pino'
import { startServer } from '../src/bus.js'
import { systemClock } from '../src/clock.js'
import { DEFAULTS } from '../src/config.js'
import { Queues } from '../src/queue/queues.js'
import { createSqliteStore } from '../src/store/sqlite/index.js'
import { numberArg as arg } from './args.js'

const MESSAGES = arg('messages', 1_000_000)
const WINDOW = arg('window', 10_000)
const DRAIN = arg('drain', 100_000)
const BODY = 'x'.repeat(Math.max(1, arg('body-bytes', 256)))
const SCOPE = { account: '111111111111', region: 'us-east-1' }
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`

async function fill(dataDir: string): Promise<void> {
  const store = createSqliteStore({ dataDir, synchronous: 'normal' })
  const log = pino({ level: 'silent' })
  const queues = await Queues.load({
    store: store.queues,
    events: store.events,
    clock: systemClock,
    log,
    window: WINDOW,
  })
  const q = await queues.create(SCOPE, 'backlog', {}, {})
  const started = performance.now()
  for (let sent = 0; sent < MESSAGES; sent += 10_000) {
    const n = Math.min(10_000, MESSAGES - sent)
    await queues.send(
      q,
      Array.from({ length: n }, () => ({ body: BODY })),
      SCOPE.account,
    )
  }
  const s = (performance.now() - started) / 1000
  console.log(
    `fill: ${MESSAGES.toLocaleString('en')} messages in ${s.toFixed(1)} s; ` +
      `${String(q.byId.size)} in memory, RSS ${mb(process.memoryUsage().rss)}`,
  )
  queues.close()
  await store.close()
}

async function restart(dataDir: string): Promise<void> {
  const started = performance.now()
  const running = await startServer({
    ...DEFAULTS,
    port: 0,
    dataDir,
    logLevel: 'silent',
    queueWindow: WINDOW,
  })
  const readyMs = performance.now() - started
  // The SQLite engine itself, whose window the bench reports on.
  const queues = running.bus.queues
  if (!(queues instanceof Queues)) throw new Error('the backlog bench needs the SQLite store')
  const q = queues.find(SCOPE, 'backlog')!
  const memory = () => {
    const m = process.memoryUsage()
    return `RSS ${mb(m.rss)}, heap used ${mb(m.heapUsed)}`
  }
  console.log(
    `restart: listening after ${readyMs.toFixed(0)} ms; ${String(q.byId.size)} messages in memory; ${memory()}`,
  )
  const counts = queues.attributes(q, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ])
  console.log(`attributes: ${JSON.stringify(counts)}`)

  const drainStarted = performance.now()
  let drained = 0
  const loop = async () => {
    while (drained < DRAIN) {
      const got = await queues.receive(q, { max: 10, waitSeconds: 0 })
      if (got.length === 0) return
      drained += got.length
      await queues.deleteMessages(
        q,
        got.map((m) => m.receiptHandle),
      )
    }
  }
  await Promise.all(Array.from({ length: 8 }, loop))
  const drainS = (performance.now() - drainStarted) / 1000
  console.log(
    `drain: ${drained.toLocaleString('en')} received and deleted in ${drainS.toFixed(1)} s ` +
      `(${Math.round(drained / drainS).toLocaleString('en')} msgs/s); ${String(q.byId.size)} in memory; ${memory()}`,
  )

  // One page read as the engine reads it, on a store where the horizon has moved on.
  const h = q.horizon ?? { visibleAt: 0, seq: 0 }
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    running.bus.store.queues!.page(q.record.id, 'visibility', h, 1000)
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  console.log(`page of 1,000 rows: median ${times[2]!.toFixed(1)} ms (of 5)`)
  const t = performance.now()
  running.bus.store.queues!.census(q.record.id, Date.now())
  console.log(`census (the start's count): ${(performance.now() - t).toFixed(0)} ms`)
  await running.close()
}

const phase = process.argv[2]
if (phase === '--fill') await fill(process.argv[3]!)
else if (phase === '--restart') await restart(process.argv[3]!)
else {
  const dir = mkdtempSync(join(tmpdir(), 'junction-backlog-'))
  const self = process.argv[1]!
  const rest = process.argv.slice(2)
  try {
    for (const p of ['--fill', '--restart']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, p, dir, ...rest], {
        stdio: 'inherit',
      })
      if (r.status !== 0) throw new Error(`${p} failed`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
