/**
 * @module
 * The console's only way to Junction: the AWS APIs the CLI uses (EventBridge's JSON 1.1, SQS's
 * JSON 1.0; Lambda's and Scheduler's REST-JSON and Junction's own routes are in `rest.ts`), the
 * `/tail` stream and `/metrics`, each request signed with the signed-in key. What the key may
 * not do, the server refuses here as it would to the CLI.
 */
import { signRequest } from './sigv4.js'
import { eachPiece } from './stream-pieces.js'

/** A signed-in identity: the key (kept in the tab only) and where it signs. */
export type Identity = {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  region: string
  /** Learnt from the server (the default bus's ARN), not typed in. */
  account?: string
}

/** An error answer, with AWS's code and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** The request as it will be sent: signed for `service` with the identity's key and region. */
export async function signed(
  id: Identity,
  service: string,
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ url: URL; headers: Record<string, string> }> {
  // With `--auth off` a key is optional: unsigned requests act as the server's default account.
  if (id.accessKeyId === '') return { url, headers }
  return signRequest(
    { method, url, headers, body, region: id.region, service },
    { accessKeyId: id.accessKeyId, secretAccessKey: id.secretAccessKey },
  )
}

async function callJson(
  id: Identity,
  service: string,
  contentType: string,
  target: string,
  input: object,
): Promise<Record<string, unknown>> {
  const body = JSON.stringify(input)
  const req = await signed(
    id,
    service,
    'POST',
    new URL('/', id.endpoint),
    { 'content-type': contentType, 'x-amz-target': target },
    body,
  )
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body })
  const text = await res.text()
  if (!res.ok) {
    let e: { __type?: string; message?: string; Message?: string } = {}
    try {
      e = JSON.parse(text) as typeof e
    } catch {
      // not JSON: the text as it is
    }
    const code = e.__type ?? res.headers.get('x-amzn-errortype') ?? String(res.status)
    throw new ApiError(code.replace(/^.*#/, ''), e.message ?? e.Message ?? text, res.status)
  }
  const out = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>
  return out
}

/** An EventBridge operation, e.g. `events(id, 'ListRules', { EventBusName: 'default' })`. */
export const events = <T = Record<string, unknown>>(
  id: Identity,
  operation: string,
  input: object = {},
) =>
  callJson(
    id,
    'events',
    'application/x-amz-json-1.1',
    `AWSEvents.${operation}`,
    input,
  ) as Promise<T>

/** An SQS operation in its JSON protocol, e.g. `sqs(id, 'ListQueues')`. */
export const sqs = <T = Record<string, unknown>>(
  id: Identity,
  operation: string,
  input: object = {},
) =>
  callJson(id, 'sqs', 'application/x-amz-json-1.0', `AmazonSQS.${operation}`, input) as Promise<T>

/** The account a key acts as, read from its default bus's ARN. */
export async function accountOf(id: Identity): Promise<string> {
  const out = await events<{ EventBuses?: { Arn: string }[] }>(id, 'ListEventBuses', { Limit: 1 })
  const arn = out.EventBuses?.[0]?.Arn ?? ''
  return arn.split(':')[4] ?? ''
}

/** Every page of a listing. */
export async function listAll<T>(
  call: (token: string | undefined) => Promise<{ items: T[]; next?: string | undefined }>,
): Promise<T[]> {
  const all: T[] = []
  let token: string | undefined
  do {
    const page = await call(token)
    all.push(...page.items)
    token = page.next
  } while (token !== undefined && token !== '')
  return all
}

/**
 * Reads `/tail` for a bus until `signal` aborts: fetch with a signed GET (EventSource cannot send
 * an Authorization header), Server-Sent Events split by hand. Calls `onEvent` with each line's
 * JSON text.
 */
export async function tail(
  id: Identity,
  bus: string,
  pattern: string | undefined,
  onEvent: (json: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL('/tail', id.endpoint)
  url.searchParams.set('bus', bus)
  if (pattern !== undefined) url.searchParams.set('pattern', pattern)
  const req = await signed(id, 'events', 'GET', url, {}, '')
  const res = await fetch(req.url, { headers: req.headers, signal })
  if (!res.ok || !res.body) {
    const text = await res.text()
    let message = text
    let code = String(res.status)
    try {
      const e = JSON.parse(text) as { __type?: string; message?: string }
      code = e.__type ?? code
      message = e.message ?? text
    } catch {
      // not JSON: the text as it is
    }
    throw new ApiError(code, message, res.status)
  }
  await eachPiece(res.body, '\n\n', (message) => {
    for (const line of message.split('\n')) if (line.startsWith('data: ')) onEvent(line.slice(6))
  })
}

/** `/metrics` (unsigned, as Prometheus reads it): value by name and labels. */
export async function metrics(id: Identity): Promise<MetricSample[]> {
  const res = await fetch(new URL('/metrics', id.endpoint))
  const text = await res.text()
  const out: MetricSample[] = []
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    out.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return out
}

export type MetricSample = { name: string; labels: Record<string, string>; value: number }
