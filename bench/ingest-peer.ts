/**
 * The other servers `bench:ingest` runs in child processes (so they do not share the load
 * generator's event loop). Prints `{"url":"http://127.0.0.1:PORT"}` once listening.
 * With `client URL N CONCURRENCY` it is instead the bare client of the delivery comparison.
 *
 * - `bare`: the baseline. Reads the body, `JSON.parse`s it and answers a PutEvents-shaped
 *   response with one random UUID per entry, as a node:http server doing nothing else would.
 * - `sink`: an API destination endpoint. Answers 200 `{}` to every POST; `GET /count` answers
 *   how many POSTs it has had, `GET /arrivals` the put-to-delivered latencies of the events
 *   whose Detail carries `seq` and `sentAt` (epoch ms, `performance.timeOrigin + now()`), taken
 *   when the body has arrived, since the previous call.
 */
import { randomUUID } from 'node:crypto'
import { Agent, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

const mode = process.argv[2]
if (mode === 'client') {
  await bareClient(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]))
  process.exit(0)
}
if (mode !== 'bare' && mode !== 'sink') throw new Error('usage: ingest-peer.ts bare|sink|client')

/**
 * `client URL N C`: the baseline for API-destination delivery. Sends N POSTs to URL with at most
 * C in flight over node:http keep-alive, each with the headers and the kind of body an
 * API-destination delivery carries, reading each answer; prints `{"rate":…,"cpuMs":…}`.
 */
async function bareClient(url: string, total: number, concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const { hostname, port, pathname } = new URL(url)
  const body = JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Order Placed',
    source: 'bench.ingest',
    account: '111111111111',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { kind: 'order', orderId: 'o-1000', total: 44.47, currency: 'EUR' },
  })
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'x-api-key': 'secret',
    'user-agent': 'Amazon/EventBridge/ApiDestinations',
    range: 'bytes=0-1048575',
    'accept-encoding': 'gzip,deflate',
    'content-length': String(Buffer.byteLength(body)),
  }
  const cpu = process.cpuUsage()
  const start = performance.now()
  let sent = 0
  const one = (): Promise<void> =>
    new Promise((done, fail) => {
      const req = request(
        { hostname, port, path: pathname, method: 'POST', headers, agent },
        (res) => {
          res.on('data', () => undefined)
          res.on('end', () => done())
        },
      )
      req.on('error', fail)
      req.end(body)
    })
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent++
        await one()
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  console.log(JSON.stringify({ rate: total / seconds, cpuMs: (used.user + used.system) / 1000 }))
  agent.destroy()
}

let received = 0
/** Put-to-delivered latencies by event seq, for events whose Detail carries `seq` and `sentAt`. */
let latencies = new Map<number, number>()
let arrivedAt: number[] = []
let duplicates = 0
/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes. */
const epochMs = () => performance.timeOrigin + performance.now()

function recordLatency(body: string, at: number): void {
  // Only the latency phase's events carry `sentAt`; the throughput phases pay no parse.
  if (!body.includes('"sentAt"')) return
  const event = JSON.parse(body) as { detail?: { seq?: number; sentAt?: number } }
  const { seq, sentAt } = event.detail ?? {}
  if (typeof seq !== 'number' || typeof sentAt !== 'number' || seq < 0) return
  if (latencies.has(seq)) duplicates++
  else {
    latencies.set(seq, at - sentAt)
    arrivedAt.push(at)
  }
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(String(received))
    return
  }
  if (req.method === 'GET' && req.url === '/arrivals') {
    // What arrived since the last call: `{"latencies":[[seq, ms]…],"arrivedAt":[…],"duplicates":n}`.
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ latencies: [...latencies], arrivedAt, duplicates }))
    latencies = new Map()
    arrivedAt = []
    duplicates = 0
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    if (mode === 'sink') {
      const at = epochMs()
      received++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
      recordLatency(Buffer.concat(chunks).toString('utf8'), at)
      return
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: unknown[] }
    const entries = (input.Entries ?? []).map(() => ({ EventId: randomUUID() }))
    const text = JSON.stringify({ FailedEntryCount: 0, Entries: entries })
    res.writeHead(200, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    })
    res.end(text)
  })
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  console.log(JSON.stringify({ url: `http://127.0.0.1:${String(port)}` }))
})
process.once('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
