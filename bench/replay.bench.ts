/**
 * `npm run bench:replay`: a replay as fast as possible against PutEvents ingest, in one run on
 * one `junction serve` (SQLite, sync FULL by default). The bus has an archive keeping every
 * event and one rule whose target is a queue. First PutEvents (autocannon, `--connections`,
 * 10 entries per request) until `--events N` events are in (its rate: events/s acknowledged,
 * archiving included); then one replay of the whole archive onto the bus (StartReplay, polled
 * until COMPLETED): events replayed per second. Prints both and their ratio; asserts nothing.
 * `--profile` runs the server under `--cpu-prof` and prints where its time went while replaying.
 *
 * Options: `--events N` (200,000), `--connections N` (32), `--sync full|normal` (full).
 */
import autocannon from 'autocannon'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startServerProcess, tempDir } from '../test/helpers/server.js'
import { numberArg as arg } from './args.js'
import { summarizeProfile } from './cpu-profile.js'

const events = arg('events', 200_000)
const connections = arg('connections', 32)
const sync = process.argv.includes('--sync')
  ? (process.argv[process.argv.indexOf('--sync') + 1] ?? 'full')
  : 'full'
const profile = process.argv.includes('--profile')

const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`
const HEADERS = {
  authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/events/aws4_request, SignedHeaders=host, Signature=x`,
  'content-type': 'application/x-amz-json-1.1',
}
const BODY = JSON.stringify({
  Entries: Array.from({ length: 10 }, (_, i) => ({
    Source: 'bench.replay',
    DetailType: 'Widget Made',
    Detail: JSON.stringify({ widget: `w-${String(i)}`, warehouse: 'berlin', weight: 4.2 }),
  })),
})
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function api(url: string, op: string, input: object): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'x-amz-target': `AWSEvents.${op}` },
    body: JSON.stringify(input),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${op}: ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

async function sqs(url: string, op: string, input: object): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      ...HEADERS,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${op}`,
    },
    body: JSON.stringify(input),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${op}: ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

const dir = tempDir('junction-bench-replay-')
const profileDir = profile ? tempDir('junction-bench-replay-prof-') : undefined
const server = await startServerProcess({
  dataDir: dir,
  args: ['--sync', sync],
  ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
})
try {
  await sqs(server.url, 'CreateQueue', { QueueName: 'widgets' })
  await api(server.url, 'PutRule', {
    Name: 'widgets',
    EventPattern: JSON.stringify({ source: ['bench.replay'] }),
  })
  await api(server.url, 'PutTargets', {
    Rule: 'widgets',
    Targets: [{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:widgets` }],
  })
  await api(server.url, 'CreateArchive', { ArchiveName: 'all', EventSourceArn: BUS })

  const started = performance.now()
  const load = await autocannon({
    url: server.url,
    connections,
    method: 'POST',
    headers: { ...HEADERS, 'x-amz-target': 'AWSEvents.PutEvents' },
    body: BODY,
    amount: Math.ceil(events / 10),
  })
  const ingestSeconds = (performance.now() - started) / 1000
  if (load.non2xx > 0 || load.errors > 0)
    throw new Error(`PutEvents: ${String(load.non2xx)} non-2xx, ${String(load.errors)} errors`)
  const ingested = load['2xx'] * 10
  const ingestRate = ingested / ingestSeconds
  const archive = await api(server.url, 'DescribeArchive', { ArchiveName: 'all' })
  console.log(
    `bench:replay (sync ${sync}): PutEvents ${fmt(ingestRate)} events/s (${fmt(ingested)} events, ${String(connections)} connections × 10 entries); archive holds ${fmt(Number(archive.EventCount))}`,
  )

  const from = 0
  const to = Math.ceil(Date.now() / 1000) + 1
  // The archive's managed rule keeps nothing replayed; the queue rule gets everything again.
  await new Promise((r) => setTimeout(r, 1100))
  const replayStart = performance.now()
  await api(server.url, 'StartReplay', {
    ReplayName: 'again',
    EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/all`,
    EventStartTime: from,
    EventEndTime: to,
    Destination: { Arn: BUS },
  })
  let state = ''
  while (state !== 'COMPLETED') {
    await new Promise((r) => setTimeout(r, 50))
    const d = await api(server.url, 'DescribeReplay', { ReplayName: 'again' })
    state = d.State as string
    if (state === 'FAILED' || state === 'CANCELLED')
      throw new Error(`replay ${state}: ${String(d.StateReason)}`)
  }
  const replaySeconds = (performance.now() - replayStart) / 1000
  const replayRate = Number(archive.EventCount) / replaySeconds
  console.log(
    `replay: ${fmt(replayRate)} events/s (${fmt(Number(archive.EventCount))} events in ${replaySeconds.toFixed(1)} s) = ${(replayRate / ingestRate).toFixed(2)} of PutEvents ingest`,
  )
} finally {
  await server.stop()
  if (profileDir) {
    for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile')))
      for (const line of summarizeProfile(join(profileDir, f), 25)) console.log(line)
    rmSync(profileDir, { recursive: true, force: true })
  }
  rmSync(dir, { recursive: true, force: true })
}
