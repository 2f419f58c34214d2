/**
 * What the sink tests share: a Junction server in this process (SQLite store, `--auth off`,
 * unsigned calls act as the default account), EventBridge and SQS calls over its HTTP API, and
 * change events built by hand in the shape of `ChangeDetail` (src/cdc/model.ts).
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type RunningServer } from '../../src/bus.js'
import type { ChangeDetail, ChangeOp } from '../../src/cdc/model.js'
import { DEFAULTS } from '../../src/config.js'

export const ACCOUNT = DEFAULTS.defaultAccount
export const REGION = DEFAULTS.region

export function startJunction(): Promise<RunningServer> {
  return startServer({
    ...DEFAULTS,
    port: 0,
    store: 'sqlite',
    dataDir: mkdtempSync(join(tmpdir(), 'junction-sink-')),
    logLevel: 'silent',
  })
}

/** An AWS JSON call (`AWSEvents.PutRule`, `AmazonSQS.CreateQueue`, …); throws `Code: message`. */
export async function call(
  url: string,
  target: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': target.startsWith('AmazonSQS.')
        ? 'application/x-amz-json-1.0'
        : 'application/x-amz-json-1.1',
      'x-amz-target': target,
    },
    body: JSON.stringify(input),
  })
  const body = (await res.json()) as Record<string, unknown>
  if (!res.ok) throw new Error(`${String(body.__type)}: ${String(body.message)}`)
  return body
}

/** `/junction/sinks` calls: status and body. */
export async function sinksApi(
  url: string,
  method: string,
  name?: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/junction/sinks${name === undefined ? '' : `/${name}`}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** A version as a PostgreSQL source writes it: the commit LSN (16 hex digits), ':', the seq. */
export const version = (commit: number, seq = 0) =>
  `${commit.toString(16).toUpperCase().padStart(16, '0')}:${String(seq).padStart(10, '0')}`

export type Row = Record<string, unknown>

/** A change event's PutEvents entry. */
export function change(
  op: ChangeOp,
  v: string,
  rows: { key: Row; before?: Row | null; after?: Row | null; unchanged?: string[] },
  table = 'public.orders',
): Record<string, unknown> {
  const [schema = 'public', name = table] = table.split('.')
  const detail: ChangeDetail = {
    op,
    key: rows.key,
    before: rows.before ?? null,
    after: rows.after ?? null,
    unchanged: rows.unchanged ?? [],
    source: {
      connector: 'postgresql',
      name: 'legacy',
      db: 'shop',
      schema,
      table: name,
      commitLsn: v.slice(0, 16),
      seq: 0,
      tsMs: 1_764_407_044_965,
      snapshot: false,
      version: v,
    },
    transaction: { id: `1:${v}`, order: 0 },
  }
  return { Source: 'junction.cdc.legacy', DetailType: table, Detail: JSON.stringify(detail) }
}

/** PutEvents in chunks of 10; every entry must be accepted. */
export async function putEvents(url: string, entries: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 10) {
    const out = await call(url, 'AWSEvents.PutEvents', { Entries: entries.slice(i, i + 10) })
    assert.equal(out.FailedEntryCount, 0, JSON.stringify(out))
  }
}

/** A rule on the default bus for the CDC source's events, with one target. */
export async function ruleTo(
  url: string,
  rule: string,
  target: Record<string, unknown>,
  pattern: Record<string, unknown> = { source: ['junction.cdc.legacy'] },
): Promise<void> {
  await call(url, 'AWSEvents.PutRule', { Name: rule, EventPattern: JSON.stringify(pattern) })
  await call(url, 'AWSEvents.PutTargets', { Rule: rule, Targets: [target] })
}

/** A queue for dead letters: its URL and ARN. */
export async function queue(url: string, name: string): Promise<{ url: string; arn: string }> {
  const created = await call(url, 'AmazonSQS.CreateQueue', { QueueName: name })
  return {
    url: created.QueueUrl as string,
    arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  }
}

/** Waits for a dead letter on the queue; its message attributes as strings. */
export async function deadLetter(url: string, queueUrl: string): Promise<Record<string, string>> {
  return poll(async () => {
    const out = await call(url, 'AmazonSQS.ReceiveMessage', {
      QueueUrl: queueUrl,
      MessageAttributeNames: ['All'],
      WaitTimeSeconds: 1,
    })
    const messages = out.Messages as
      { MessageAttributes: Record<string, { StringValue: string }> }[] | undefined
    const m = messages?.[0]
    if (!m) return undefined
    return Object.fromEntries(
      Object.entries(m.MessageAttributes).map(([k, v]) => [k, v.StringValue]),
    )
  }, 'a dead letter')
}

/** Calls `fn` until it returns something other than undefined (60 s at most). */
export async function poll<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(
        `gave up waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      )
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Shuffles a copy (Fisher–Yates with a seeded generator, so a failure can be repeated). */
export function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items]
  let s = seed
  const random = () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31
    return s / 2 ** 31
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Runs `junction ARGS…` (the real command line, through tsx): exit code and output. */
export async function junction(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process')
  const { fileURLToPath } = await import('node:url')
  const root = fileURLToPath(new URL('../..', import.meta.url))
  // No credentials anywhere: the calls go unsigned and act as the server's default account.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        ![
          'AWS_ACCESS_KEY_ID',
          'AWS_SECRET_ACCESS_KEY',
          'AWS_SESSION_TOKEN',
          'AWS_PROFILE',
        ].includes(k),
    ),
  )
  env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials'
  env.AWS_CONFIG_FILE = '/nonexistent/config'
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  return { code, stdout, stderr }
}

/** A counter of the server's /metrics for a rule (0 when absent). */
export async function metric(url: string, name: string, rule: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let total = 0
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(`RuleName="${rule}"`))
      total += Number(line.slice(line.lastIndexOf(' ') + 1))
  return total
}
