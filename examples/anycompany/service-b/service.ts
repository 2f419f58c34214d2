/**
 * @module
 * Service B's small web service (account 333333333333): it consumes B's queue (where B's rule
 * puts the valid widget events) with the AWS SDK, keeps per-widget and per-warehouse
 * aggregates, and serves a page that shows them live, pushed with Server-Sent Events:
 *
 * - `GET /`: the page;
 * - `GET /events`: the event stream (`event: aggregates`, the whole snapshot on connect and on
 *   every change);
 * - `GET /aggregates.json`: the snapshot, for scripts and tests.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { readFileSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Aggregates, type Snapshot } from './aggregates.js'

export type ServiceBOptions = {
  sqs: SQSClient
  queueUrl: string
  /** Port to listen on; 0 (default) for any free one. */
  port?: number
  host?: string
  /** Told about each batch counted, and about receive errors. */
  onBatch?: (counted: number, snapshot: Snapshot) => void
  onError?: (e: unknown) => void
}

export type ServiceB = {
  url: string
  snapshot(): Snapshot
  stop(): Promise<void>
}

const PAGE = readFileSync(new URL('page.html', import.meta.url), 'utf8')

export async function startServiceB(o: ServiceBOptions): Promise<ServiceB> {
  const aggregates = new Aggregates()
  const streams = new Set<ServerResponse>()
  const push = (res: ServerResponse) =>
    res.write(`event: aggregates\ndata: ${JSON.stringify(aggregates.snapshot())}\n\n`)

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://b').pathname
    if (req.method !== 'GET') {
      res.writeHead(405).end()
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
    } else if (path === '/aggregates.json') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(aggregates.snapshot()))
    } else if (path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      })
      streams.add(res)
      req.on('close', () => streams.delete(res))
      push(res)
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  })
  await new Promise<void>((done) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', done))
  const { port } = server.address() as AddressInfo

  const abort = new AbortController()
  const consuming = consume(o, aggregates, abort.signal, (counted) => {
    for (const res of streams) push(res)
    o.onBatch?.(counted, aggregates.snapshot())
  })

  return {
    url: `http://${o.host ?? '127.0.0.1'}:${String(port)}/`,
    snapshot: () => aggregates.snapshot(),
    async stop() {
      abort.abort()
      await consuming
      for (const res of streams) res.end()
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
    },
  }
}

/** Receives from the queue until stopped: counts each message, then deletes the batch. */
async function consume(
  o: ServiceBOptions,
  aggregates: Aggregates,
  signal: AbortSignal,
  changed: (counted: number) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const out = await o.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: o.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 10,
        }),
        { abortSignal: signal },
      )
      const messages = out.Messages ?? []
      if (messages.length === 0) continue
      let counted = 0
      for (const m of messages)
        if (aggregates.add(JSON.parse(m.Body ?? '{}') as Parameters<Aggregates['add']>[0]))
          counted += 1
      await o.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: o.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      )
      if (counted > 0) changed(counted)
    } catch (e) {
      if (stopped(signal)) return
      o.onError?.(e)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
}

/** Read through a call: the loop's condition narrowed `signal.aborted` to false. */
const stopped = (signal: AbortSignal) => signal.aborted
