/**
 * Event load for crash and fault tests: PutEvents over plain fetch, a sink that records every
 * delivered envelope, concurrent clients that remember which events were acknowledged, and the
 * checks that compare the two. Everything started here is stopped by {@link closeEventLoad}.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'

export const ACCOUNT = '111111111111'
export const SOURCE = 'crash.test'

const sinks: Sink[] = []
const loads: Load[] = []

/** Stops every load and sink this module started. */
export async function closeEventLoad(): Promise<void> {
  await Promise.all(loads.map((l) => l.stop()))
  for (const s of sinks) await s.close()
}

// ── the API, over plain fetch ──────────────────────────────────────────────────────────────────

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${String(status)} ${body}`)
  }
}

/** `HTTP 500 InternalException`, `ECONNRESET`, …: what a request that got no EventIds met. */
export function failureKind(e: unknown): string {
  if (e instanceof HttpError) {
    let type = ''
    try {
      type = String((JSON.parse(e.body) as { __type?: unknown }).__type)
    } catch {
      // not JSON
    }
    return `HTTP ${String(e.status)} ${type}`
  }
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined
  return typeof cause?.code === 'string' ? cause.code : String(e).slice(0, 80)
}

export async function call(
  url: string,
  op: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${op}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=x`,
    },
    body: JSON.stringify(input),
  })
  const text = await res.text()
  if (res.status !== 200) throw new HttpError(res.status, text)
  return JSON.parse(text) as Record<string, unknown>
}

/** An SQS call in the JSON protocol, as current SDKs make it. */
export async function sqs(
  url: string,
  action: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x`,
    },
    body: JSON.stringify(input),
  })
  const text = await res.text()
  if (res.status !== 200) throw new HttpError(res.status, text)
  return JSON.parse(text) as Record<string, unknown>
}

/** A connection, an API destination to the sink, a rule on the default bus and its target. */
export async function configure(
  url: string,
  sinkUrl: string,
  ratePerSecond = 10_000,
): Promise<void> {
  const conn = await call(url, 'CreateConnection', {
    Name: 'crash-conn',
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-k', ApiKeyValue: 'v' } },
  })
  const dest = await call(url, 'CreateApiDestination', {
    Name: 'crash-dest',
    ConnectionArn: conn.ConnectionArn,
    InvocationEndpoint: `${sinkUrl}/events`,
    HttpMethod: 'POST',
    InvocationRateLimitPerSecond: ratePerSecond,
  })
  await call(url, 'PutRule', {
    Name: 'crash-rule',
    EventPattern: JSON.stringify({ source: [SOURCE] }),
  })
  const put = await call(url, 'PutTargets', {
    Rule: 'crash-rule',
    Targets: [
      {
        Id: 'sink',
        Arn: dest.ApiDestinationArn,
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/crash`,
      },
    ],
  })
  assert.equal(put.FailedEntryCount, 0)
}

// ── the sink: records every delivered envelope ─────────────────────────────────────────────────

export type Sink = {
  url: string
  /** Envelope id → how many requests carried it. */
  counts: Map<string, number>
  /** Envelope id → the `seq` in its detail. */
  seqOf: Map<string, number>
  /** Envelope id → how many requests were answered 2xx. */
  successes: Map<string, number>
  requests: number
  /** Requests received and not answered yet. */
  open: number
  /** Requests whose body was not an envelope of this test. */
  foreign: number
  /** Waits until every id in `ids` was answered 2xx; resolves with those still missing after `timeoutMs`. */
  waitForDelivered(ids: Iterable<string>, timeoutMs: number): Promise<string[]>
  close(): Promise<void>
}

/**
 * `status(id, n)` answers the n-th request (1-based) carrying envelope `id`; `delayMs` holds each
 * answer back, so that deliveries are in flight most of the time.
 */
export async function startSink(
  options: { delayMs?: number; status?: (id: string, n: number) => number } = {},
): Promise<Sink> {
  const delayMs = options.delayMs ?? 0
  const status = options.status ?? (() => 200)
  const sink: Omit<Sink, 'url' | 'waitForDelivered' | 'close'> = {
    counts: new Map(),
    seqOf: new Map(),
    successes: new Map(),
    requests: 0,
    open: 0,
    foreign: 0,
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      sink.requests++
      let id: string | undefined
      let code = 200
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          id?: unknown
          source?: unknown
          detail?: { seq?: unknown }
        }
        if (typeof body.id === 'string' && body.source === SOURCE) {
          id = body.id
          const n = (sink.counts.get(id) ?? 0) + 1
          sink.counts.set(id, n)
          if (typeof body.detail?.seq === 'number') sink.seqOf.set(id, body.detail.seq)
          code = status(id, n)
        } else sink.foreign++
      } catch {
        sink.foreign++
      }
      if (id !== undefined && code >= 200 && code <= 299)
        sink.successes.set(id, (sink.successes.get(id) ?? 0) + 1)
      sink.open++
      const answer = () => {
        sink.open--
        if (res.destroyed) return
        res.writeHead(code, { 'content-type': 'application/json' })
        res.end('{}')
      }
      if (delayMs > 0) setTimeout(answer, delayMs)
      else answer()
    })
    req.on('error', () => {
      // The bus died mid-request; what arrived is recorded already.
    })
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  const port = (server.address() as AddressInfo).port
  const result: Sink = Object.assign(sink, {
    url: `http://127.0.0.1:${String(port)}`,
    async waitForDelivered(ids: Iterable<string>, timeoutMs: number) {
      const list = [...ids]
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const missing = list.filter((id) => !sink.successes.has(id))
        if (missing.length === 0 || Date.now() >= deadline) return missing
        await sleep(50)
      }
    },
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections()
        server.close(() => {
          res()
        })
      }),
  })
  sinks.push(result)
  return result
}

// ── the load: concurrent PutEvents clients ─────────────────────────────────────────────────────

export type Load = {
  /** EventId → seq, for every entry of every request answered with FailedEntryCount 0. */
  acked: Map<string, number>
  /** Seqs of entries whose request got no (or no clean) answer. */
  unacked: Set<number>
  requests: number
  /** Requests sent and not answered yet. */
  inFlight: number
  /** Why requests got no EventIds, with how many: `HTTP 500 InternalException`, `ECONNRESET`… */
  failures: Map<string, number>
  /** Stops sending; resolves when every client has finished its last request. */
  stop(): Promise<void>
}

/** `url` or several, which the clients take in turn (client i sends to `urls[i % n]`). */
export function runLoad(url: string | string[], clients: number, entriesPerRequest = 10): Load {
  const urls = Array.isArray(url) ? url : [url]
  let running = true
  let nextSeq = 0
  const load: Omit<Load, 'stop'> = {
    acked: new Map(),
    unacked: new Set(),
    requests: 0,
    inFlight: 0,
    failures: new Map(),
  }
  const fail = (seqs: number[], kind: string) => {
    for (const s of seqs) load.unacked.add(s)
    load.failures.set(kind, (load.failures.get(kind) ?? 0) + 1)
  }
  const client = async (_: unknown, i: number) => {
    const target = urls[i % urls.length]!
    while (running) {
      const seqs = Array.from({ length: entriesPerRequest }, () => nextSeq++)
      const entries = seqs.map((seq) => ({
        Source: SOURCE,
        DetailType: 'crash',
        Detail: JSON.stringify({ seq }),
      }))
      load.requests++
      load.inFlight++
      try {
        const out = await call(target, 'PutEvents', { Entries: entries })
        const results = out.Entries as { EventId?: string }[]
        if (out.FailedEntryCount === 0 && results.length === seqs.length) {
          results.forEach((r, i) => {
            assert.ok(r.EventId)
            load.acked.set(r.EventId, seqs[i]!)
          })
        } else fail(seqs, `FailedEntryCount ${String(out.FailedEntryCount)}`)
      } catch (e) {
        fail(seqs, failureKind(e))
        await sleep(5) // the server is going away: no busy loop
      } finally {
        load.inFlight--
      }
    }
  }
  const done = Promise.all(Array.from({ length: clients }, client))
  const result: Load = Object.assign(load, {
    async stop() {
      running = false
      await done
    },
  })
  loads.push(result)
  return result
}

// ── the check ──────────────────────────────────────────────────────────────────────────────────

/** Polls `ready` every few milliseconds; false if it never held within `timeoutMs`. */
export async function until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!ready()) {
    if (Date.now() >= deadline) return false
    await sleep(2)
  }
  return true
}

/** Acknowledged events not answered 2xx by the sink yet. */
export function owed(load: Load, sink: Sink): number {
  let n = 0
  for (const id of load.acked.keys()) if (!sink.successes.has(id)) n++
  return n
}

/** What was in flight when the server was signalled. */
export function snapshot(load: Load, sink: Sink) {
  return {
    requestsSent: load.requests,
    putEventsInFlight: load.inFlight,
    acknowledged: load.acked.size,
    deliveriesInFlight: sink.open,
    acknowledgedNotDelivered: owed(load, sink),
  }
}

export function report(t: TestContext, label: string, figures: Record<string, unknown>): void {
  t.diagnostic(`${label}: ${JSON.stringify(figures)}`)
}
