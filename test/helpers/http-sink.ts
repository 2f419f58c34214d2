/**
 * An HTTP endpoint run by a test: records every request (method, path, headers, body) and
 * answers with a status the test chooses per request.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Received = {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
  at: number
}

export type HttpSink = {
  url: string
  received: Received[]
  /** Status for the next requests (default 200). */
  respond: (status: (r: Received) => number) => void
  /** Resolves once `n` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>
  close(): Promise<void>
}

export async function startHttpSink(): Promise<HttpSink> {
  const received: Received[] = []
  let status: (r: Received) => number = () => 200
  const waiters: { n: number; resolve: () => void }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      received.push(r)
      const code = status(r)
      res.writeHead(code, { 'content-type': 'application/json' })
      res.end('{}')
      for (const w of waiters.filter((w) => received.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    })
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${String(port)}`,
    received,
    respond: (s) => {
      status = s
    },
    waitFor(n, timeoutMs = 10_000) {
      if (received.length >= n) return Promise.resolve(received)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`expected ${String(n)} requests, got ${String(received.length)}`))
        }, timeoutMs)
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer)
            resolve(received)
          },
        })
      })
    },
    close: () =>
      new Promise((res) => {
        server.closeAllConnections()
        server.close(() => res())
      }),
  }
}
