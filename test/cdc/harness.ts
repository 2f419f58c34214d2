/**
 * What the change-capture tests share: a throwaway PostgreSQL, real `junction serve` processes,
 * a queue that a rule on the default bus fills with every `junction.cdc.*` event, and the calls
 * to read it and to manage sources.
 */
import { rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

export const ACCOUNT = '111111111111'
const auth = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20261129/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`

export type CdcEvent = {
  id: string
  source: string
  'detail-type': string
  time: string
  account: string
  detail: {
    op: string
    key: Record<string, unknown> | null
    before: Record<string, unknown> | null
    after: Record<string, unknown> | null
    unchanged: string[]
    truncated?: string[]
    source: Record<string, unknown> & { version: string; commitLsn?: string; seq: number }
    transaction: { id: string; order: number }
  }
}

export async function call<T>(
  url: string,
  target: string,
  body: Record<string, unknown>,
): Promise<T> {
  const json10 = target.startsWith('AmazonSQS.')
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: {
      'content-type': json10 ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
      'x-amz-target': target,
      authorization: auth(json10 ? 'sqs' : 'events'),
    },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${target}: HTTP ${String(res.status)} ${text}`)
  return JSON.parse(text) as T
}

/** `/junction/sources…`: status and parsed body. */
export async function sourcesCall(
  url: string,
  method: string,
  path = '',
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/junction/sources${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: auth('events') },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

export async function addSource(url: string, def: Record<string, unknown>): Promise<void> {
  const r = await sourcesCall(url, 'POST', '', { busName: 'default', ...def })
  if (r.status !== 200) throw new Error(`adding the source: ${JSON.stringify(r.body)}`)
}

export type SourceStatusBody = {
  state: string
  error?: string
  checkpoint?: string
  changesCaptured: number
}

export async function sourceStatus(url: string, name: string): Promise<SourceStatusBody> {
  const r = await sourcesCall(url, 'GET', `/${name}`)
  return (r.body as { status: SourceStatusBody }).status
}

/** Polls until the source's status satisfies `ok` (its last status in the error otherwise). */
export async function waitForStatus(
  url: string,
  name: string,
  ok: (s: SourceStatusBody) => boolean,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<SourceStatusBody> {
  const deadline = Date.now() + timeoutMs
  let last: SourceStatusBody | undefined
  while (Date.now() < deadline) {
    last = await sourceStatus(url, name)
    if (ok(last)) return last
    await sleep(everyMs)
  }
  throw new Error(`source ${name} never reached the state; last: ${JSON.stringify(last)}`)
}

/** A queue `cdc` and a rule on the default bus sending it every change event. */
export async function captureQueue(url: string): Promise<string> {
  const { QueueUrl } = await call<{ QueueUrl: string }>(url, 'AmazonSQS.CreateQueue', {
    QueueName: 'cdc',
  })
  await call(url, 'AWSEvents.PutRule', {
    Name: 'cdc-all',
    EventPattern: JSON.stringify({ source: [{ prefix: 'junction.cdc.' }] }),
  })
  await call(url, 'AWSEvents.PutTargets', {
    Rule: 'cdc-all',
    Targets: [{ Id: 'q', Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:cdc` }],
  })
  return QueueUrl
}

type Message = { ReceiptHandle: string; Body: string }

/** Receives (and deletes) what the queue has now: polls until it stays empty for `quietMs`. */
export async function drain(url: string, queueUrl: string, quietMs = 1500): Promise<CdcEvent[]> {
  const out: CdcEvent[] = []
  let quietSince = Date.now()
  for (;;) {
    const r = await call<{ Messages?: Message[] }>(url, 'AmazonSQS.ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
    })
    if (!r.Messages || r.Messages.length === 0) {
      if (Date.now() - quietSince > quietMs) return out
      await sleep(100)
      continue
    }
    quietSince = Date.now()
    for (const m of r.Messages) out.push(JSON.parse(m.Body) as CdcEvent)
    await call(url, 'AmazonSQS.DeleteMessageBatch', {
      QueueUrl: queueUrl,
      Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    })
  }
}

/** Receives until `done(all so far)` holds (or throws after `timeoutMs`). */
export async function receiveUntil(
  url: string,
  queueUrl: string,
  done: (events: CdcEvent[]) => boolean,
  timeoutMs = 90_000,
  into: CdcEvent[] = [],
): Promise<CdcEvent[]> {
  const deadline = Date.now() + timeoutMs
  while (!done(into)) {
    if (Date.now() > deadline)
      throw new Error(`timed out with ${String(into.length)} events received`)
    into.push(...(await drain(url, queueUrl, 300)))
  }
  return into
}

/** Junction server processes, killed and their directories removed at the end. */
export function servers() {
  const started: ServerProcess[] = []
  const dirs: string[] = []
  return {
    dir(): string {
      const d = tempDir('junction-cdc-')
      dirs.push(d)
      return d
    },
    async start(dataDir: string, args: string[] = [], nodeArgs?: string[]): Promise<ServerProcess> {
      const s = await startServerProcess({ dataDir, args, ...(nodeArgs ? { nodeArgs } : {}) })
      started.push(s)
      return s
    },
    async cleanup(): Promise<void> {
      for (const s of started)
        if (s.child.exitCode === null && s.child.signalCode === null) await s.kill()
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    },
  }
}
