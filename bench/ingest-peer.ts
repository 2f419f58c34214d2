/**
 * The other servers `bench:ingest` runs in child processes (so they do not share the load
 * generator's event loop). Prints `{"url":"http://127.0.0.1:PORT"}` once listening.
 *
 * - `bare`: the baseline. Reads the body, `JSON.parse`s it and answers a PutEvents-shaped
 *   response with one random UUID per entry, as a node:http server doing nothing else would.
 * - `sink`: an API destination endpoint. Answers 200 `{}` to every POST; `GET /count` answers
 *   how many POSTs it has had.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const mode = process.argv[2]
if (mode !== 'bare' && mode !== 'sink') throw new Error('usage: ingest-peer.ts bare|sink')

let received = 0
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(String(received))
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    if (mode === 'sink') {
      received++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
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
