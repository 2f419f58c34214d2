/**
 * `npm run bench:cdc`: change capture from PostgreSQL onto the bus against a bare
 * logical-replication client, in one run, on one throwaway PostgreSQL (wal_level logical, fsync
 * off, synchronous_commit on). Prints figures; asserts nothing.
 *
 * 1. Throughput: `--rows N` single-row insert transactions committed as fast as one session can
 *    (a pgbench-style insert load), read by (a) a bare pg-logical-replication client that only
 *    decodes pgoutput and acknowledges each commit, (b) a Junction source (`junction serve`,
 *    SQLite store) storing each transaction with its checkpoint. Changes/s from the first commit
 *    to the last change read (bare) or stored on the bus (Junction: its source's count of
 *    changes stored, polled every 20 ms; nothing watches the bus during this run).
 *    Also the CPU each reader's process spent per change over that run (the bare client's is this
 *    process; PostgreSQL's is in neither), steadier than the rates on a shared 2-core machine.
 * 2. Latency at a fixed rate (`--rate` transactions/s for `--seconds`): commit time (pgoutput's
 *    commit timestamp) to read (bare) or to on the bus (Junction), p50 and p99.
 *
 * Options: `--rows N` (20000), `--rate N` (200), `--seconds S` (10), `--profile` (the Junction
 * server of the throughput run under `--cpu-prof`; its hottest functions printed at the end).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication'
import { postgresBin, startPostgres, type PostgresServer } from '../test/helpers/postgres.js'
import { startServerProcess, tempDir } from '../test/helpers/server.js'
import { bigToLsn, lsnToBig } from '../src/cdc/postgres/lsn.js'
import { cpuMs } from './process-cpu.js'
import { numberArg as arg } from './args.js'
import { summarizeProfile } from './cpu-profile.js'

const ROWS = arg('rows', 20_000)
const RATE = arg('rate', 200)
const SECONDS = arg('seconds', 10)
/** `--profile`: where the throughput run's server writes its CPU profile. */
const PROFILE_DIR = process.argv.includes('--profile')
  ? mkdtempSync(join(tmpdir(), 'junction-cdc-prof-'))
  : undefined

const AUTH =
  'AWS4-HMAC-SHA256 Credential=111111111111/20261129/us-east-1/events/aws4_request, SignedHeaders=host, Signature=x'

type Seen = { commitMs: number; at: number }[]

type Reader = {
  /** Changes read (bare) or stored on the bus (Junction) so far. */
  count(): Promise<number>
  /** From now on: each change's commit time (ms) and when it was read or arrived on the bus. */
  watch(): Promise<Seen>
  /** CPU the reader's process has used, ms (the bare client: this process). */
  cpuMs(): number
  close(): Promise<void>
}

/** Decodes and acknowledges (exactly, at each commit) and does nothing else. */
function bareReader(pg: PostgresServer, publication: string): Promise<Reader> {
  pg.sql(`SELECT pg_create_logical_replication_slot('bare_${publication}', 'pgoutput')`)
  const service = new LogicalReplicationService(
    { connectionString: pg.url },
    { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
  )
  let read = 0
  let seen: Seen | undefined
  let commitMs = 0
  service.on(
    'data',
    async (_lsn: string, m: { tag: string; commitTime?: bigint; commitEndLsn?: string }) => {
      if (m.tag === 'begin') commitMs = Number(m.commitTime! / 1000n)
      else if (m.tag === 'insert') {
        read++
        seen?.push({ commitMs, at: Date.now() })
      } else if (m.tag === 'commit')
        await service.acknowledge(bigToLsn(lsnToBig(m.commitEndLsn!) - 1n))
    },
  )
  service.on('error', () => undefined)
  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] })
  void service.subscribe(plugin, `bare_${publication}`, '0/0').catch(() => undefined)
  return Promise.resolve({
    count: () => Promise.resolve(read),
    cpuMs: () => {
      const u = process.cpuUsage()
      return (u.user + u.system) / 1000
    },
    watch: () => Promise.resolve((seen = [])),
    close: async () => {
      await service.destroy()
    },
  })
}

/**
 * A Junction server with a source on the publication. Stored changes are counted from the
 * source's status (`changesCaptured`, moved after each store commit), so the throughput run has
 * no observer on the bus; the latency run watches `/tail` for each event's arrival.
 */
async function junctionReader(
  pg: PostgresServer,
  publication: string,
  profileDir?: string,
): Promise<Reader> {
  const server = await startServerProcess({
    dataDir: tempDir('junction-bench-cdc-'),
    ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
  })
  const status = async () =>
    (
      (await (
        await fetch(`${server.url}/junction/sources/${publication}`, {
          headers: { authorization: AUTH },
        })
      ).json()) as { status: { state: string; changesCaptured: number } }
    ).status
  let tail: ReadableStreamDefaultReader<Uint8Array> | undefined
  const watch = async (): Promise<Seen> => {
    const seen: Seen = []
    const res = await fetch(`${server.url}/tail?bus=default`, { headers: { authorization: AUTH } })
    const reader = (tail = res.body!.getReader())
    void (async () => {
      const decoder = new TextDecoder()
      let text = ''
      for (;;) {
        const r = (await reader.read().catch(() => ({ done: true }))) as {
          done: boolean
          value?: Uint8Array
        }
        if (r.done) return
        const at = Date.now()
        text += decoder.decode(r.value, { stream: true })
        // Whole lines only: a chunk may end inside one.
        const end = text.lastIndexOf('\n')
        if (end < 0) continue
        for (const m of text.slice(0, end).matchAll(/"tsMs":(\d+)/g))
          seen.push({ commitMs: Number(m[1]), at })
        text = text.slice(end + 1)
      }
    })()
    return seen
  }
  const res = await fetch(`${server.url}/junction/sources`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ name: publication, url: pg.url, publication, busName: 'default' }),
  })
  if (!res.ok) throw new Error(await res.text())
  while ((await status()).state !== 'streaming') await new Promise((r) => setTimeout(r, 100))
  return {
    count: async () => (await status()).changesCaptured,
    cpuMs: () => cpuMs(server.child.pid),
    watch,
    close: async () => {
      await tail?.cancel().catch(() => undefined)
      await server.stop()
    },
  }
}

/** The load runs in psql without blocking this process (the bare reader runs in it). */
const load = (pg: PostgresServer, sql: string) =>
  promisify(execFile)(postgresBin('psql'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(pg.port),
    '-U',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    sql,
  ])

async function until(cond: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}

async function measure(
  pg: PostgresServer,
  name: string,
  open: (pg: PostgresServer, publication: string) => Promise<Reader>,
) {
  pg.sql(`CREATE TABLE ${name} (id serial PRIMARY KEY, v text);
    CREATE PUBLICATION ${name} FOR TABLE ${name}`)
  const reader = await open(pg, name)
  const cpuBefore = reader.cpuMs()
  const started = performance.now()
  await load(
    pg,
    `DO $$ BEGIN FOR i IN 1..${String(ROWS)} LOOP INSERT INTO ${name} (v) VALUES ('x'); COMMIT; END LOOP; END $$`,
  )
  await until(async () => (await reader.count()) >= ROWS)
  const throughput = ROWS / ((performance.now() - started) / 1000)
  const cpuPerChange = ((reader.cpuMs() - cpuBefore) * 1000) / ROWS
  const seen = await reader.watch()
  const sleep = (1 / RATE).toFixed(4)
  await load(
    pg,
    `DO $$ BEGIN FOR i IN 1..${String(RATE * SECONDS)} LOOP INSERT INTO ${name} (v) VALUES ('y'); COMMIT; PERFORM pg_sleep(${sleep}); END LOOP; END $$`,
  )
  await until(() => Promise.resolve(seen.length >= RATE * SECONDS))
  const lat = seen.map((s) => s.at - s.commitMs)
  await reader.close()
  return { throughput, cpuPerChange, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}

// Synchronous commit as PostgreSQL ships it. The test helper turns it off, and then a commit
// sits in the WAL buffers until the WAL writer's next round (wal_writer_delay, 200 ms): the
// walsender sends only flushed WAL, so every reader, the bare one too, saw 200–450 ms of
// latency that was this setting alone. fsync stays off (the flush is a write to the page cache).
const pg = await startPostgres({ conf: ['synchronous_commit = on'] })
try {
  const bare = await measure(pg, 'bare', bareReader)
  const junction = await measure(pg, 'junction', (p, publication) =>
    junctionReader(p, publication, PROFILE_DIR),
  )
  const row = (n: string, r: typeof bare) =>
    `${n.padEnd(34)} ${r.throughput.toFixed(0).padStart(8)} changes/s   CPU ${r.cpuPerChange.toFixed(1).padStart(5)} µs/change   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(5)} ms`
  console.log(
    `${String(ROWS)} single-row transactions; latency at ${String(RATE)} tx/s for ${String(SECONDS)} s`,
  )
  console.log(row('bare pg-logical-replication client', bare))
  console.log(row('Junction source (onto the bus)', junction))
  console.log(
    `ratio (Junction / bare throughput): ${(junction.throughput / bare.throughput).toFixed(2)}; CPU per change, Junction / bare: ${(junction.cpuPerChange / bare.cpuPerChange).toFixed(2)}`,
  )
  if (PROFILE_DIR)
    for (const f of readdirSync(PROFILE_DIR))
      console.log(join(PROFILE_DIR, f), summarizeProfile(join(PROFILE_DIR, f), 30).join('\n'))
} finally {
  await pg.destroy()
}
