/**
 * @module
 * SQS on the bus's port: AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Action>`, current SDKs) and the
 * query protocol (form-encoded `Action=…`, XML answers; the AWS CLI v2 and boto3 before 1.31).
 * Errors carry SQS's code in each: `<Code>` in XML, and in JSON the `__type` of the modelled
 * error plus the `x-amzn-query-error` header that query-compatible SDKs read the code from.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { Caller } from '../../auth/caller.js'
import { QueueError, type QueueErrorCode } from '../../queue/errors.js'
import type { QueueService } from '../../queue/service.js'
import { sqsOperations, type Input } from './operations.js'
import { readQuery, writeError, writeResponse } from './query-protocol.js'
import { SHAPES } from './shapes.js'

export const SQS_TARGET_PREFIX = 'AmazonSQS.'
const JSON_TYPE = 'application/x-amz-json-1.0'
const XML_TYPE = 'text/xml'

/** The JSON protocol's error shape names, where SQS models one; the others keep their code. */
const JSON_TYPES: Partial<Record<QueueErrorCode, string>> = {
  'AWS.SimpleQueueService.NonExistentQueue': 'QueueDoesNotExist',
  QueueAlreadyExists: 'QueueNameExists',
  'AWS.SimpleQueueService.PurgeQueueInProgress': 'PurgeQueueInProgress',
  'AWS.SimpleQueueService.TooManyEntriesInBatchRequest': 'TooManyEntriesInBatchRequest',
  'AWS.SimpleQueueService.EmptyBatchRequest': 'EmptyBatchRequest',
  'AWS.SimpleQueueService.BatchEntryIdsNotDistinct': 'BatchEntryIdsNotDistinct',
  'AWS.SimpleQueueService.InvalidBatchEntryId': 'InvalidBatchEntryId',
  'AWS.SimpleQueueService.BatchRequestTooLong': 'BatchRequestTooLong',
  InvalidParameterValue: 'InvalidParameterValueException',
  MissingParameter: 'MissingRequiredParameterException',
}

const STATUS: Partial<Record<QueueErrorCode, number>> = {
  'AWS.SimpleQueueService.PurgeQueueInProgress': 403,
  ReceiptHandleIsInvalid: 404,
  InvalidAddress: 404,
  InternalFailure: 500,
}

export type SqsRequest = {
  protocol: 'json' | 'query'
  /** The action for JSON (from X-Amz-Target); query requests carry theirs in the body. */
  target?: string
  body: string
  /** The query string of a GET request. */
  search: string
  path: string
}

export type SqsDeps = { queues: QueueService; log: Logger }

/** Answers one SQS request already read from the wire. */
export async function answerSqs(
  deps: SqsDeps,
  request: SqsRequest,
  caller: Caller,
  requestId: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let action: string | undefined
  try {
    let input: Input
    if (request.protocol === 'json') {
      action = request.target
      input = parseJson(request.body)
    } else {
      const params = new URLSearchParams(request.search)
      for (const [k, v] of new URLSearchParams(request.body)) params.append(k, v)
      action = params.get('Action') ?? undefined
      params.delete('Action')
      params.delete('Version')
      // Own properties only: `constructor` or `__proto__` is no action.
      const shapes =
        action !== undefined && Object.hasOwn(SHAPES, action) ? SHAPES[action] : undefined
      input = shapes ? readQuery(params, shapes.input) : {}
    }
    const operation =
      action !== undefined && Object.hasOwn(sqsOperations, action)
        ? sqsOperations[action]
        : undefined
    if (!operation || action === undefined)
      throw new QueueError(
        'InvalidAction',
        `The action ${action ?? '(none)'} is not valid for this endpoint.`,
      )
    // Only a receive that waits needs to hear that its client went away; made on demand
    // because an AbortController per request is measurable at thousands of requests a second.
    let aborted: AbortController | undefined
    const signal = () => {
      if (!aborted) {
        const controller = new AbortController()
        aborted = controller
        res.once('close', () => {
          if (!res.writableFinished) controller.abort()
        })
      }
      return aborted.signal
    }
    const output = await operation(
      {
        scope: { account: caller.account, region: caller.region },
        queues: deps.queues,
        origin: `http://${req.headers.host ?? 'localhost'}`,
        path: request.path,
        senderId: caller.accessKeyId ?? caller.account,
        abortSignal: signal,
      },
      input,
    )
    if (request.protocol === 'json')
      send(res, 200, JSON_TYPE, JSON.stringify(output ?? {}), requestId)
    else
      send(
        res,
        200,
        XML_TYPE,
        writeResponse(action, requestId, output, SHAPES[action]?.output),
        requestId,
      )
  } catch (e) {
    const error = asQueueError(e)
    if (error.code === 'InternalFailure')
      deps.log.error({ err: e, requestId, action }, 'internal error')
    const status = STATUS[error.code] ?? 400
    if (request.protocol === 'json' && error.code === 'InvalidAction') {
      // An unknown JSON target is refused before SQS sees it, as AWS's front end does.
      const text = JSON.stringify({
        __type: 'com.amazon.coral.service#UnknownOperationException',
        message: `Operation ${action ?? '(none)'} is not supported.`,
      })
      send(res, 400, JSON_TYPE, text, requestId)
    } else if (request.protocol === 'json') {
      const text = JSON.stringify({
        __type: `com.amazonaws.sqs#${JSON_TYPES[error.code] ?? error.code}`,
        message: error.message,
      })
      send(res, status, JSON_TYPE, text, requestId, {
        'x-amzn-query-error': `${error.code};${error.senderFault ? 'Sender' : 'Receiver'}`,
      })
    } else {
      // The query protocol's wording of this one error predates the JSON protocol's.
      const message =
        error.code === 'AWS.SimpleQueueService.NonExistentQueue'
          ? 'The specified queue does not exist for this wsdl version.'
          : error.message
      send(
        res,
        status,
        XML_TYPE,
        writeError(requestId, {
          message,
          code: error.code,
          senderFault: error.senderFault,
        }),
        requestId,
      )
    }
  }
}

/**
 * The answer to an SQS request while the server stops: SQS's ServiceUnavailable (503, which
 * every SDK retries) in the request's own protocol, and the connection closed so that the retry
 * goes to the next server (or this one after its restart).
 */
export function answerSqsUnavailable(
  protocol: 'json' | 'query',
  requestId: string,
  res: ServerResponse,
): void {
  answerSqsError(
    protocol,
    requestId,
    res,
    {
      status: 503,
      jsonType: 'ServiceUnavailable',
      queryCode: 'ServiceUnavailable',
      message: 'The request has failed due to a temporary failure of the server.',
      senderFault: false,
    },
    { connection: 'close' },
  )
}

/**
 * An error decided before any action runs (the server stopping, a signature refused), in the
 * request's protocol: JSON with the modelled type and the query code in `x-amzn-query-error`,
 * or SQS's XML.
 */
export function answerSqsError(
  protocol: 'json' | 'query',
  requestId: string,
  res: ServerResponse,
  error: {
    status: number
    jsonType: string
    queryCode: string
    message: string
    senderFault: boolean
  },
  extra: Record<string, string> = {},
): void {
  if (protocol === 'json')
    send(
      res,
      error.status,
      JSON_TYPE,
      JSON.stringify({ __type: `com.amazonaws.sqs#${error.jsonType}`, message: error.message }),
      requestId,
      {
        'x-amzn-query-error': `${error.queryCode};${error.senderFault ? 'Sender' : 'Receiver'}`,
        ...extra,
      },
    )
  else
    send(
      res,
      error.status,
      XML_TYPE,
      writeError(requestId, {
        code: error.queryCode,
        message: error.message,
        senderFault: error.senderFault,
      }),
      requestId,
      extra,
    )
}

function asQueueError(e: unknown): QueueError {
  if (e instanceof QueueError) return e
  return new QueueError('InternalFailure', 'We encountered an internal error. Please try again.', {
    senderFault: false,
  })
}

function parseJson(body: string): Input {
  if (body.trim() === '') return {}
  let v: unknown
  try {
    v = JSON.parse(body)
  } catch {
    throw new QueueError('InvalidParameterValue', 'The request body is not valid JSON.')
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new QueueError('InvalidParameterValue', 'The request body must be a JSON object.')
  return v as Input
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  text: string,
  requestId: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...extra,
  })
  res.end(text)
}
