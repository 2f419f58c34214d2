/**
 * @module
 * Where an asynchronous invocation's outcome goes once Lambda is done with it: the function's
 * OnSuccess / OnFailure destination (an invocation record), or, on failure without an OnFailure
 * destination, its dead-letter queue (the event alone, with why it failed as message attributes).
 *
 * The record's shape is Lambda's (invocation-async-retain-records): `version`, `timestamp`,
 * `requestContext`, `requestPayload`, `responseContext`, `responsePayload`. On an EventBridge
 * bus it is the `detail` of an event from source `lambda`, detail-type
 * `Lambda Function Invocation Result - Success|Failure`, with the function as its resource.
 */
import { parseArn } from '../arns.js'
import type { EntryResult, EventEntry } from '../engine/ingest.js'
import type { Scope } from '../model.js'
import type { MessageAttributeValue } from '../queue/model.js'
import type { QueueService } from '../queue/service.js'
import type { FunctionRecord } from './model.js'

export type InvocationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded'

export type InvocationRecordInput = {
  fn: FunctionRecord
  requestId: string
  condition: InvocationCondition
  invokeCount: number
  /** The event as the handler received it (text). */
  requestPayload: string
  statusCode: number
  functionError?: string
  /** The handler's answer or Lambda's error JSON, when there was one. */
  responsePayload?: Buffer
  now: number
}

/** Lambda's service principal sends destination and dead-letter messages. */
export const LAMBDA_SENDER = 'lambda.amazonaws.com'

/** Lambda's timestamp in records: ISO 8601 with milliseconds and `Z`. */
const recordTime = (ms: number) => new Date(ms).toISOString()

/** A JSON payload stays JSON in the record; anything else becomes a string. */
function embed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

export function invocationRecord(r: InvocationRecordInput): Record<string, unknown> {
  const responseContext: Record<string, unknown> = {
    statusCode: r.statusCode,
    executedVersion: '$LATEST',
  }
  if (r.functionError !== undefined) responseContext.functionError = r.functionError
  const record: Record<string, unknown> = {
    version: '1.0',
    timestamp: recordTime(r.now),
    requestContext: {
      requestId: r.requestId,
      functionArn: `${r.fn.arn}:$LATEST`,
      condition: r.condition,
      approximateInvokeCount: r.invokeCount,
    },
    requestPayload: embed(r.requestPayload),
    responseContext,
  }
  if (r.responsePayload !== undefined && r.responsePayload.length > 0)
    record.responsePayload = embed(r.responsePayload.toString('utf8'))
  return record
}

export type DestinationDeps = {
  queues: QueueService
  /** Ingest.putEvents. */
  putEvents: (scope: Scope, entries: EventEntry[]) => Promise<EntryResult[]>
  /** Another function as the destination: an asynchronous invocation of it. */
  invokeFunction: (arn: string, payload: string) => Promise<boolean>
  log: { warn(obj: object, msg: string): void }
}

/**
 * Sends a record to a destination ARN (SQS queue, EventBridge bus, Lambda function). Resolves
 * false when the destination does not exist or cannot take it (Lambda then drops the record).
 */
export async function sendRecord(
  deps: DestinationDeps,
  destination: string,
  record: Record<string, unknown>,
  fn: FunctionRecord,
  now: number,
): Promise<boolean> {
  const arn = parseArn(destination)
  const text = JSON.stringify(record)
  if (arn?.service === 'sqs') {
    const q = deps.queues.findByArn(destination)
    if (!q) return false
    const [result] = await deps.queues.send(q, [{ body: text }], LAMBDA_SENDER)
    return result !== undefined && 'messageId' in result
  }
  if (arn?.service === 'events') {
    // As Lambda does: a PutEvents call in the function's account, so a bus of another account
    // takes it only if its policy allows that account.
    const success = (record.requestContext as { condition: string }).condition === 'Success'
    const [result] = await deps.putEvents({ account: fn.account, region: fn.region }, [
      {
        source: 'lambda',
        detailType: `Lambda Function Invocation Result - ${success ? 'Success' : 'Failure'}`,
        detail: text,
        busName: destination,
        resources: [fn.arn],
        time: now,
      },
    ])
    return result !== undefined && 'eventId' in result
  }
  if (arn?.service === 'lambda') return deps.invokeFunction(destination, text)
  deps.log.warn({ destination }, 'this kind of destination is not supported; record dropped')
  return false
}

/**
 * The dead-letter queue's message: the event as its body and, as Lambda sets them, `RequestID`,
 * `ErrorCode` (the HTTP status, a Number) and `ErrorMessage` (its first KB).
 */
export async function sendDeadLetter(
  deps: DestinationDeps,
  dlqArn: string,
  payload: string,
  requestId: string,
  statusCode: number,
  errorMessage: string,
): Promise<boolean> {
  const q = deps.queues.findByArn(dlqArn)
  if (!q) return false
  const attributes: Record<string, MessageAttributeValue> = {
    RequestID: { dataType: 'String', stringValue: requestId },
    ErrorCode: { dataType: 'Number', stringValue: String(statusCode) },
    ErrorMessage: { dataType: 'String', stringValue: truncateUtf8(errorMessage, 1024) },
  }
  const [result] = await deps.queues.send(q, [{ body: payload, attributes }], LAMBDA_SENDER)
  return result !== undefined && 'messageId' in result
}

function truncateUtf8(text: string, bytes: number): string {
  const buf = Buffer.from(text, 'utf8')
  if (buf.length <= bytes) return text
  // Cut on a character boundary: drop a trailing partial sequence.
  return buf
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '')
}
