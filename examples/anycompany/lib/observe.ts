/**
 * @module
 * What the example looks at to say what happened, each through the owning account's own API:
 * central's invalid-widgets queue, C's archive, C's report file.
 */
import { DescribeArchiveCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { readFileSync } from 'node:fs'

export type Rejected = { widgetId: unknown; reason: string }

/**
 * The messages of the invalid-widgets queue, read without consuming them (visibility timeout
 * 0, so they stay for whoever looks next), until `expected` distinct ones were seen or
 * `timeoutMs` passed.
 */
export async function readRejected(
  sqs: SQSClient,
  queueUrl: string,
  expected: number,
  timeoutMs: number,
): Promise<Rejected[]> {
  const byId = new Map<string, Rejected>()
  const deadline = Date.now() + timeoutMs
  while (byId.size < expected && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageAttributeNames: ['All'],
      }),
    )
    for (const m of out.Messages ?? []) {
      const body = JSON.parse(m.Body ?? '{}') as { event?: { detail?: { widget_id?: unknown } } }
      byId.set(m.MessageId!, {
        widgetId: body.event?.detail?.widget_id,
        reason: m.MessageAttributes?.reason?.StringValue ?? '',
      })
    }
    if ((out.Messages ?? []).length === 0) await sleep(200)
  }
  return [...byId.values()]
}

/** EventCount of an archive (DescribeArchive). */
export async function archiveCount(events: EventBridgeClient, name: string): Promise<number> {
  const out = await events.send(new DescribeArchiveCommand({ ArchiveName: name }))
  return out.EventCount ?? 0
}

export type ReportRow = { day: string; warehouse: string; widgets: number; total_weight_kg: number }
export type Report = { asOf: string; archive: string; rows: ReportRow[] }

/** The report file as the report function last wrote it, or undefined before the first. */
export function readReport(file: string): Report | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Report
  } catch {
    return undefined
  }
}

/** Calls `probe` until `done` says yes (its last value), or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (Date.now() > deadline)
      throw new Error(
        `gave up waiting for ${what} after ${String(timeoutMs / 1000)} s (last: ${JSON.stringify(value)})`,
      )
    await sleep(150)
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
