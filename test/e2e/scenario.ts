/**
 * The end-to-end scenario every client test runs (AWS CLI v2, boto3, JS SDK v3): the resources
 * it creates, the events it sends, and what EventBridge would deliver for them, so that the
 * three files check the same expectations. Values are AWS wire shapes (PascalCase members).
 *
 * AWS behaviour asserted here (reference ../shared/reference/eventbridge-api.md):
 * - the delivered event envelope and its key order (§3.1), `time` to the second with `Z`;
 * - InputTransformer output byte for byte: the template's own text is kept, a string placed as
 *   a bare JSON value is quoted, one inside quotes is inserted raw (§5.2);
 * - API destination requests: the connection's API key header, `Content-Type: application/json;
 *   charset=utf-8`, the `User-Agent`, header/query parameters, `*` path wildcards filled in order,
 *   parameter values starting with `$.` read from the event (§5.1);
 * - the PutEvents per-entry errors and size limit (§3.3, §3.4) and the messages in
 *   ../shared/conformance/api.jsonl.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HttpSink, Received } from '../helpers/http-sink.js'

export const ACCOUNT = '111111111111'
export const REGION = 'us-east-1'

export const CONNECTION = {
  Name: 'e2e-conn',
  AuthorizationType: 'API_KEY',
  AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'secret-1' } },
} as const

/** Two API destinations on the sink: one with a `*` path segment, one plain. */
export function destinations(sinkUrl: string) {
  return {
    hook: {
      Name: 'e2e-hook',
      InvocationEndpoint: `${sinkUrl}/hooks/*/orders`,
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 50,
    },
    raw: { Name: 'e2e-raw', InvocationEndpoint: `${sinkUrl}/raw`, HttpMethod: 'POST' },
  } as const
}

export const BUS = 'e2e-bus'
export const RULE = 'e2e-orders'
export const RULE_DESCRIPTION = 'orders over 100'
export const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/${BUS}/${RULE}`
export const PATTERN = JSON.stringify({
  source: ['e2e.orders'],
  'detail-type': ['OrderPlaced'],
  detail: { amount: [{ numeric: ['>', 100] }] },
})

export const TEMPLATE =
  '{"order": <order>, "total": <amount>, "from": "<src>", "rule": "<aws.events.rule-name>"}'

export type WireTarget = {
  Id: string
  Arn: string
  InputTransformer?: { InputPathsMap: Record<string, string>; InputTemplate: string }
  HttpParameters?: {
    PathParameterValues: string[]
    HeaderParameters: Record<string, string>
    QueryStringParameters: Record<string, string>
  }
  RetryPolicy?: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number }
}

/** The PutTargets entries: one transformed with HTTP parameters, one getting the whole event. */
export function targets(hookArn: string, rawArn: string): WireTarget[] {
  return [
    {
      Id: 'transformed',
      Arn: hookArn,
      InputTransformer: {
        InputPathsMap: { order: '$.detail.orderId', amount: '$.detail.amount', src: '$.source' },
        InputTemplate: TEMPLATE,
      },
      HttpParameters: {
        PathParameterValues: ['eu-west'],
        HeaderParameters: { 'x-tenant': 'tenant-7' },
        QueryStringParameters: { mode: 'e2e', ref: '$.detail.orderId' },
      },
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
    },
    { Id: 'whole', Arn: rawArn },
  ]
}

export type WireEntry = {
  Source?: string
  DetailType?: string
  Detail?: string
  Resources?: string[]
  EventBusName?: string
}

function order(orderId: string, amount: number): WireEntry {
  return {
    Source: 'e2e.orders',
    DetailType: 'OrderPlaced',
    Detail: JSON.stringify({ orderId, amount, items: ['a', 'b'], note: 'café' }),
    Resources: ['arn:aws:s3:::orders-bucket'],
    EventBusName: BUS,
  }
}

/** Matches the rule. */
export const MATCHING = order('o-17', 250)
/** Same source and type, amount too small: must never be delivered. */
export const NOT_MATCHING = order('o-18', 50)
/** Sent after the first two, so that its arrival shows the non-matching one was passed over. */
export const SENTINEL = order('o-19', 300)

/** A full envelope for TestEventPattern (AWS requires id, account, source, time, region, detail-type). */
export function testEvent(amount: number): string {
  return JSON.stringify({
    version: '0',
    id: '0d4e3c8a-2a8f-4d6a-9a76-3c0b5f1d2e11',
    'detail-type': 'OrderPlaced',
    source: 'e2e.orders',
    account: ACCOUNT,
    time: '2026-01-02T03:04:05Z',
    region: REGION,
    resources: [],
    detail: { orderId: 'o-1', amount },
  })
}

// ── error cases ──────────────────────────────────────────────────────────────

export const INVALID_PATTERN = '{"source":"e2e.orders"}'
export const INVALID_PATTERN_REASON =
  'Event pattern is not valid. Reason: "source" must be an object or an array'
export const MISSING_BUS_MESSAGE = 'Event bus nope does not exist.'
export const OVER_LIMIT_MESSAGE = 'Total size of the entries in the request is over the limit.'
/** A Detail just over the default 1 MiB total (Source and DetailType count too). */
export const OVERSIZED_ENTRY: WireEntry = {
  Source: 'e2e.big',
  DetailType: 'Big',
  Detail: JSON.stringify({ payload: 'p'.repeat(1_048_576) }),
}
export const ELEVEN_ENTRIES: WireEntry[] = Array.from({ length: 11 }, (_, i) => ({
  Source: 'e2e.many',
  DetailType: 'Many',
  Detail: JSON.stringify({ i }),
}))
export const MALFORMED_ENTRY: WireEntry = {
  Source: 'e2e.bad',
  DetailType: 'Bad',
  Detail: '["not","an","object"]',
}
export const NO_SOURCE_ENTRY: WireEntry = { DetailType: 'NoSource', Detail: '{"k":"v"}' }

/** The ValidationException message for more than 10 PutEvents entries (AWS embeds the list). */
export function assertTooManyEntriesMessage(message: string): void {
  assert.ok(message.startsWith('1 validation error detected: '), message.slice(0, 200))
  assert.ok(
    message.endsWith(
      "' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
    ),
    message.slice(-200),
  )
}

export const MALFORMED_RESULT = {
  FailedEntryCount: 1,
  Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }],
}
export const NO_SOURCE_RESULT = {
  FailedEntryCount: 1,
  Entries: [
    {
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
    },
  ],
}

// ── expected answers ─────────────────────────────────────────────────────────

export const DESCRIBE_RULE = {
  Name: RULE,
  Arn: RULE_ARN,
  EventPattern: PATTERN,
  State: 'ENABLED',
  Description: RULE_DESCRIPTION,
  EventBusName: BUS,
  CreatedBy: ACCOUNT,
}

export const LIST_RULES = {
  Rules: [
    {
      Name: RULE,
      Arn: RULE_ARN,
      EventPattern: PATTERN,
      State: 'ENABLED',
      Description: RULE_DESCRIPTION,
      EventBusName: BUS,
    },
  ],
}

export const byId = (a: { Id?: string | undefined }, b: { Id?: string | undefined }) =>
  (a.Id ?? '').localeCompare(b.Id ?? '')

export const API_DESTINATION_ARN = new RegExp(
  `^arn:aws:events:${REGION}:${ACCOUNT}:api-destination/[^/]+/[0-9a-f-]{36}$`,
)
export const CONNECTION_ARN = new RegExp(
  `^arn:aws:events:${REGION}:${ACCOUNT}:connection/${CONNECTION.Name}/[0-9a-f-]{36}$`,
)

// ── what arrives at the sink ─────────────────────────────────────────────────

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

/** What the sink got for one event: the transformed and the whole-event request. */
export type Delivery = { transformed: Received; whole: Received }

/** Splits the sink's requests by event (order id) and target (path). */
export function deliveriesByOrder(received: Received[]): Map<string, Partial<Delivery>> {
  const out = new Map<string, Partial<Delivery>>()
  for (const r of received) {
    const url = new URL(r.url, 'http://sink')
    if (url.pathname === '/raw') {
      const orderId = (JSON.parse(r.body) as { detail: { orderId: string } }).detail.orderId
      out.set(orderId, { ...out.get(orderId), whole: r })
    } else {
      let orderId = '?'
      try {
        orderId = String((JSON.parse(r.body) as { order?: unknown }).order)
      } catch {
        // not JSON: reported by assertTransformed
      }
      out.set(orderId, { ...out.get(orderId), transformed: r })
    }
  }
  return out
}

/**
 * Waits for both deliveries of MATCHING, then sends SENTINEL (through `putSentinel`) and waits for
 * its two; asserts what arrived for MATCHING and that NOT_MATCHING never did.
 */
export async function assertDeliveries(
  sink: HttpSink,
  matching: { eventId: string; sentAfter: number; sentBefore: number },
  putSentinel: () => Promise<void>,
): Promise<void> {
  await sink.waitFor(2, 20_000)
  const first = deliveriesByOrder(sink.received)
  assert.deepEqual([...first.keys()], ['o-17'], 'only the matching event arrives first')
  await putSentinel()
  await sink.waitFor(4, 20_000)
  const all = deliveriesByOrder(sink.received)
  assert.deepEqual([...all.keys()].sort(), ['o-17', 'o-19'], 'the non-matching event never arrives')
  assert.equal(sink.received.length, 4)
  const d = all.get('o-17')!
  assert.ok(d.transformed && d.whole)
  assertTransformed(d.transformed)
  assertWholeEvent(d.whole, matching)
}

export function assertTransformed(r: Received): void {
  assert.equal(r.method, 'POST')
  const url = new URL(r.url, 'http://sink')
  assert.equal(url.pathname, '/hooks/eu-west/orders')
  assert.deepEqual(
    [...url.searchParams.entries()].sort(),
    [
      ['mode', 'e2e'],
      ['ref', 'o-17'],
    ],
    r.url,
  )
  assert.equal(
    r.body,
    '{"order": "o-17", "total": 250, "from": "e2e.orders", "rule": "e2e-orders"}',
  )
  assert.equal(r.headers['x-api-key'], 'secret-1')
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8')
  assert.equal(r.headers['x-tenant'], 'tenant-7')
  assert.equal(r.headers['user-agent'], 'Amazon/EventBridge/ApiDestinations')
  // Exactly the headers EventBridge documents for API destinations, plus the configured ones
  // (no browser-style extras such as accept or sec-fetch-mode).
  assert.equal(r.headers['accept-encoding'], 'gzip,deflate')
  assert.equal(r.headers.range, 'bytes=0-1048575')
  assert.deepEqual(Object.keys(r.headers).sort(), [
    'accept-encoding',
    'connection',
    'content-length',
    'content-type',
    'host',
    'range',
    'user-agent',
    'x-api-key',
    'x-tenant',
  ])
}

export function assertWholeEvent(
  r: Received,
  matching: { eventId: string; sentAfter: number; sentBefore: number },
): void {
  assert.equal(r.method, 'POST')
  assert.equal(r.url, '/raw')
  assert.equal(r.headers['x-api-key'], 'secret-1')
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8')
  assert.equal(r.headers['x-tenant'], undefined, 'header parameters belong to the other target')
  const event = JSON.parse(r.body) as Record<string, unknown>
  assert.deepEqual(Object.keys(event), [
    'version',
    'id',
    'detail-type',
    'source',
    'account',
    'time',
    'region',
    'resources',
    'detail',
  ])
  const time = event.time as string
  assert.match(time, TIME)
  const t = Date.parse(time)
  assert.ok(
    t >= Math.floor(matching.sentAfter / 1000) * 1000 - 1000 && t <= matching.sentBefore + 1000,
    `time ${time} not between ${new Date(matching.sentAfter).toISOString()} and ${new Date(matching.sentBefore).toISOString()}`,
  )
  assert.equal(
    r.body,
    `{"version":"0","id":"${matching.eventId}","detail-type":"OrderPlaced","source":"e2e.orders",` +
      `"account":"${ACCOUNT}","time":"${time}","region":"${REGION}",` +
      `"resources":["arn:aws:s3:::orders-bucket"],"detail":${MATCHING.Detail!}}`,
  )
}

// ── raw HTTP ─────────────────────────────────────────────────────────────────

/** An AWS JSON 1.1 request naming an operation EventBridge does not have. */
export async function assertUnknownOperation(url: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSEvents.NoSuchThing',
    },
    body: '{}',
  })
  assert.equal(res.status, 400)
  assert.equal(res.headers.get('x-amzn-errortype'), 'UnknownOperationException')
  const body = (await res.json()) as { __type?: unknown }
  assert.equal(body.__type, 'UnknownOperationException')
}

// ── client processes ─────────────────────────────────────────────────────────

/**
 * Environment for the CLI and boto3: the parent's, without any AWS_* setting or Python path,
 * plus test credentials (a 12-digit key is the account) and empty config files.
 */
export function clientEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'junction-e2e-aws-'))
  const config = join(dir, 'config')
  const credentials = join(dir, 'credentials')
  writeFileSync(config, '')
  writeFileSync(credentials, '')
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AWS_') || k.startsWith('PYTHON') || k.startsWith('PYENV')) continue
    env[k] = v
  }
  return {
    ...env,
    HOME: dir,
    AWS_ACCESS_KEY_ID: ACCOUNT,
    AWS_SECRET_ACCESS_KEY: 'anything',
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    PYTHONDONTWRITEBYTECODE: '1',
  }
}
