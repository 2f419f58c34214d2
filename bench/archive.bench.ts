/**
 * `npm run bench:archive`: what archiving costs PutEvents. The same load (autocannon, in this
 * process; 10 entries per request) against `junction serve` children on fresh SQLite stores,
 * with no archive, and with an archive on the bus that keeps every event (so every event
 * writes an archive row in its commit). Runs alternate (without, with, without, with …) so that
 * drift of a shared machine falls on both sides; the ratio of the summed throughputs is the
 * figure. Prints figures; asserts nothing.
 *
 * Options: `--duration S` per run (5), `--rounds N` (2), `--connections N` (32),
 * `--sync full|normal` (full).
 */
import autocannon from 'autocannon'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { numberArg as arg } from './args.js'
import { SERVE_NODE_OPTIONS } from '../src/cli/node-options.js'

const duration = arg('duration', 5)
const rounds = arg('rounds', 2)
const connections = arg('connections', 32)
/** `--archive-pattern P`: the archive keeps only what P matches (default: every event). */
const archivePattern = process.argv.includes('--archive-pattern')
  ? process.argv[process.argv.indexOf('--archive-pattern') + 1]
  : undefined
const sync = process.argv.includes('--sync')
  ? (process.argv[process.argv.indexOf('--sync') + 1] ?? 'full')
  : 'full'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const HEADERS = {
  authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/events/aws4_request, SignedHeaders=host, Signature=x`,
  'content-type': 'application/x-amz-json-1.1',
}
const BODY = JSON.stringify({
  Entries: Array.from({ length: 10 }, (_, i) => ({
    Source: 'bench.archive',
    DetailType: 'Order Placed',
    Detail: JSON.stringify({
      kind: i === 0 ? 'order' : 'view',
      orderId: `o-${String(i)}`,
      total: 44.47,
    }),
  })),
})

async function api(url: string, op: string, input: object): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'x-amz-target': `AWSEvents.${op}` },
    body: JSON.stringify(input),
  })
  if (!res.ok) throw new Error(`${op}: ${await res.text()}`)
}

async function serve(): Promise<{ url: string; proc: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'junction-bench-archive-'))
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      ...SERVE_NODE_OPTIONS,
      '--import',
      'tsx',
      join(repoRoot, 'src/cli/main.ts'),
      'serve',
      '--port',
      '0',
      '--data',
      dir,
      '--sync',
      sync,
      '--log-level',
      'info',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  const url = await new Promise<string>((res, rej) => {
    const stdout = proc.stdout as NodeJS.ReadableStream
    stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /"url":"(http:[^"]+)"/.exec(out)
      if (m) res(m[1]!)
    })
    proc.once('exit', (code) => rej(new Error(`serve exited ${String(code)}`)))
  })
  return { url, proc, dir }
}

async function run(withArchive: boolean): Promise<number> {
  const s = await serve()
  try {
    // One ordinary rule, as a bus usually has.
    await api(s.url, 'PutRule', { Name: 'orders', EventPattern: '{"detail":{"kind":["refund"]}}' })
    if (withArchive)
      await api(s.url, 'CreateArchive', {
        ArchiveName: 'all',
        EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
        ...(archivePattern === undefined ? {} : { EventPattern: archivePattern }),
      })
    const opts = {
      url: s.url,
      connections,
      method: 'POST' as const,
      headers: { ...HEADERS, 'x-amz-target': 'AWSEvents.PutEvents' },
      body: BODY,
    }
    await autocannon({ ...opts, duration: 1 })
    const r = await autocannon({ ...opts, duration })
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`${String(r.non2xx)} non-2xx, ${String(r.errors)} errors`)
    return r.requests.total / duration
  } finally {
    s.proc.kill('SIGTERM')
    await new Promise((r) => s.proc.once('exit', r))
    rmSync(s.dir, { recursive: true, force: true })
  }
}

let without = 0
let withA = 0
for (let i = 0; i < rounds; i++) {
  const a = await run(false)
  const b = await run(true)
  without += a
  withA += b
  console.log(
    `round ${String(i + 1)}: without archive ${a.toFixed(0)} req/s, with ${b.toFixed(0)} req/s (10 events each)`,
  )
}
console.log(
  `sync ${sync}: archiving every event keeps ${((100 * withA) / without).toFixed(1)}% of PutEvents throughput`,
)
