/**
 * @module
 * The SQS operations Junction answers, by action name. Each takes its input in the JSON
 * protocol's shape (the query protocol is read into the same shape) and returns its output in it.
 */
import type { Scope } from '../../model.js'
import { MAX_MESSAGE_SIZE } from '../../queue/attributes.js'
import { invalidParameter, noSuchQueue, QueueError } from '../../queue/errors.js'
import { checkMessageAttributes, selectAttributes } from '../../queue/message-attributes.js'
import { md5OfAttributes } from '../../queue/md5.js'
import { hasInvalidCharacters } from '../../queue/message-rules.js'
import type { MessageAttributeValue } from '../../queue/model.js'
import type { ReceivedMessage, SendEntry, SendResult } from '../../queue/queues.js'
import type { QueueRef, QueueService } from '../../queue/service.js'

export type SqsContext = {
  /** The caller's account and region. */
  scope: Scope
  queues: QueueService
  /** `http://host:port` as the client addressed this server, for queue URLs. */
  origin: string
  /** The queue URL path the request was sent to (`/account/name`), if not `/`. */
  path: string
  /** SenderId on the messages this caller sends. */
  senderId: string
  /** A signal aborted when the client goes away (ends a long poll); made when first asked for. */
  abortSignal: () => AbortSignal
}

export type Input = Record<string, unknown>
export type Output = Record<string, unknown> | undefined
export type SqsOperation = (ctx: SqsContext, input: Input) => Promise<Output> | Output

const MAX_BATCH = 10
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/

/** A map keyed by caller-chosen names: `__proto__` must be a key like any other. */
export const dictionary = <T>(): Record<string, T> => Object.create(null) as Record<string, T>

// --- input reading ----------------------------------------------------------------------------

const missing = (name: string) =>
  new QueueError('MissingParameter', `The request must contain the parameter ${name}.`)

function str(input: Input, name: string, required: true): string
function str(input: Input, name: string, required?: false): string | undefined
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (required) throw missing(name)
    return undefined
  }
  if (typeof v !== 'string')
    throw invalidParameter(`Value for parameter ${name} is invalid. Reason: Must be a string.`)
  return v
}

function int(input: Input, name: string): number | undefined {
  const v = input[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw invalidParameter(
      `Value ${JSON.stringify(v)} for parameter ${name} is invalid. Reason: Must be an integer.`,
    )
  return v
}

function stringMap(input: Input, name: string): Record<string, string> {
  const v = input[name]
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v))
    throw invalidParameter(`Value for parameter ${name} is invalid. Reason: Must be a map.`)
  const out = dictionary<string>()
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'string')
      throw invalidParameter(
        `Value for parameter ${name}.${k} is invalid. Reason: Must be a string.`,
      )
    out[k] = x
  }
  return out
}

function stringList(input: Input, name: string): string[] {
  const v = input[name]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw invalidParameter(
      `Value for parameter ${name} is invalid. Reason: Must be a list of strings.`,
    )
  return v as string[]
}

function entries(input: Input, kind: string): Input[] {
  const v = input.Entries
  const list = Array.isArray(v) ? (v as unknown[]) : []
  if (list.length === 0)
    throw new QueueError(
      'AWS.SimpleQueueService.EmptyBatchRequest',
      `There should be at least one ${kind} in the request.`,
    )
  if (list.length > MAX_BATCH)
    throw new QueueError(
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${String(MAX_BATCH)}. You have sent ${String(list.length)}.`,
    )
  const seen = new Set<string>()
  for (const e of list) {
    if (e === null || typeof e !== 'object')
      throw invalidParameter(`Value for parameter Entries is invalid.`)
    const id = str(e as Input, 'Id', true)
    if (!BATCH_ID.test(id))
      throw new QueueError(
        'AWS.SimpleQueueService.InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      )
    if (seen.has(id))
      throw new QueueError('AWS.SimpleQueueService.BatchEntryIdsNotDistinct', `Id ${id} repeated.`)
    seen.add(id)
  }
  return list as Input[]
}

function range(
  value: number | undefined,
  name: string,
  min: number,
  max: number,
  reason: string,
): void {
  if (value !== undefined && (value < min || value > max))
    throw invalidParameter(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`,
    )
}

// --- queue addressing -------------------------------------------------------------------------

export const queueUrl = (ctx: SqsContext, q: QueueRef) =>
  `${ctx.origin}/${q.record.account}/${q.record.name}`

/** The queue a request names by QueueUrl (or, in the query protocol, by its path). */
function queueOf(ctx: SqsContext, input: Input): QueueRef {
  const url = str(input, 'QueueUrl') ?? (ctx.path !== '/' ? ctx.path : undefined)
  if (url === undefined) throw missing('QueueUrl')
  let path: string
  try {
    path = new URL(url, 'http://localhost').pathname
  } catch {
    throw invalidAddress(url)
  }
  const m = /^\/(\d{12})\/([^/]+)\/?$/.exec(path)
  if (!m) throw invalidAddress(url)
  let name: string
  try {
    name = decodeURIComponent(m[2]!)
  } catch {
    throw invalidAddress(url)
  }
  const q = ctx.queues.find({ account: m[1]!, region: ctx.scope.region }, name)
  if (!q) throw noSuchQueue()
  return q
}

const invalidAddress = (url: string) =>
  new QueueError('InvalidAddress', `The address ${url} is not valid for this endpoint.`)

// --- messages in and out ----------------------------------------------------------------------

function attributeMap(v: unknown, name: string): Record<string, MessageAttributeValue> | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v))
    throw invalidParameter(`Value for parameter ${name} is invalid. Reason: Must be a map.`)
  const out = dictionary<MessageAttributeValue>()
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const a = (raw ?? {}) as Input
    const value: MessageAttributeValue = { dataType: str(a, 'DataType') ?? '' }
    const s = str(a, 'StringValue')
    const b = str(a, 'BinaryValue')
    if (s !== undefined) value.stringValue = s
    if (b !== undefined) value.binaryValue = b
    out[k] = value
  }
  return out
}

function sendEntry(input: Input): SendEntry {
  const entry: SendEntry = { body: str(input, 'MessageBody') ?? '' }
  if (input.MessageBody === undefined) throw missing('MessageBody')
  const delay = int(input, 'DelaySeconds')
  range(delay, 'DelaySeconds', 0, 900, 'DelaySeconds must be >= 0 and <= 900.')
  if (delay !== undefined) entry.delaySeconds = delay
  const attributes = attributeMap(input.MessageAttributes, 'MessageAttributes')
  if (attributes) {
    checkMessageAttributes(attributes)
    entry.attributes = attributes
  }
  const system = attributeMap(input.MessageSystemAttributes, 'MessageSystemAttributes')
  for (const [name, a] of Object.entries(system ?? {})) {
    if (name !== 'AWSTraceHeader')
      throw invalidParameter(`Message system attribute name '${name}' is invalid.`)
    if (a.dataType !== 'String' || !a.stringValue || hasInvalidCharacters(a.stringValue))
      throw invalidParameter(
        `Message system attribute '${name}' must be of type String and not empty.`,
      )
    entry.traceHeader = a.stringValue
  }
  const group = str(input, 'MessageGroupId')
  const dedup = str(input, 'MessageDeduplicationId')
  checkId(group, 'MessageGroupId')
  checkId(dedup, 'MessageDeduplicationId')
  if (group !== undefined) entry.groupId = group
  if (dedup !== undefined) entry.dedupId = dedup
  return entry
}

const MESSAGE_ID_TEXT = /^[\x21-\x7E]{1,128}$/

function checkId(value: string | undefined, name: string): void {
  if (value !== undefined && !MESSAGE_ID_TEXT.test(value))
    throw invalidParameter(
      `Value ${value} for parameter ${name} is invalid. Reason: ${name} can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    )
}

function sendOutput(r: SendResult): Record<string, unknown> {
  const out: Record<string, unknown> = { MD5OfMessageBody: r.md5OfBody }
  if (r.md5OfAttributes !== undefined) out.MD5OfMessageAttributes = r.md5OfAttributes
  if (r.md5OfSystemAttributes !== undefined)
    out.MD5OfMessageSystemAttributes = r.md5OfSystemAttributes
  out.MessageId = r.messageId
  if (r.sequenceNumber !== undefined) out.SequenceNumber = r.sequenceNumber
  return out
}

const failure = (id: string, e: QueueError) => ({
  Id: id,
  SenderFault: e.senderFault,
  Code: e.code,
  Message: e.message,
})

const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
] as const

function messageOutput(
  m: ReceivedMessage,
  systemNames: string[],
  attributeNames: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    MessageId: m.id,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: m.md5OfBody,
    Body: m.body,
  }
  const all = systemNames.includes('All')
  const system: Record<string, string | undefined> = {
    SenderId: m.senderId,
    SentTimestamp: String(m.sentAt),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
    SequenceNumber: m.sequenceNumber,
    MessageDeduplicationId: m.dedupId,
    MessageGroupId: m.groupId,
    AWSTraceHeader: m.traceHeader,
    DeadLetterQueueSourceArn: m.sourceArn,
  }
  const attributes: Record<string, string> = {}
  for (const name of SYSTEM_ATTRIBUTES) {
    const v = system[name]
    if (v !== undefined && (all || systemNames.includes(name))) attributes[name] = v
  }
  if (Object.keys(attributes).length > 0) out.Attributes = attributes
  const chosen = selectAttributes(m.attributes, attributeNames)
  if (chosen) {
    out.MD5OfMessageAttributes = md5OfAttributes(chosen)
    const wire = dictionary<unknown>()
    for (const [name, a] of Object.entries(chosen)) {
      const v: Record<string, unknown> = {}
      if (a.stringValue !== undefined) v.StringValue = a.stringValue
      if (a.binaryValue !== undefined) v.BinaryValue = a.binaryValue
      v.DataType = a.dataType
      wire[name] = v
    }
    out.MessageAttributes = wire
  }
  return out
}

/** ListQueues and ListDeadLetterSourceQueues: all at once, or pages of MaxResults. */
function page(
  ctx: SqsContext,
  input: Input,
  found: QueueRef[],
  member: 'QueueUrls' | 'queueUrls',
): Output {
  const max = int(input, 'MaxResults')
  range(max, 'MaxResults', 1, 1000, 'MaxResults must be an integer between 1 and 1000.')
  const token = str(input, 'NextToken')
  let start = 0
  if (token !== undefined) {
    const after = Buffer.from(token, 'base64url').toString('utf8')
    start = found.findIndex((q) => q.record.name > after)
    if (start < 0) start = found.length
  }
  const limit = max ?? 1000
  const shown = found.slice(start, start + limit)
  const out: Record<string, unknown> = {}
  if (shown.length > 0) out[member] = shown.map((q) => queueUrl(ctx, q))
  if (max !== undefined && start + limit < found.length)
    out.NextToken = Buffer.from(shown[shown.length - 1]!.record.name, 'utf8').toString('base64url')
  return out
}

// --- operations -------------------------------------------------------------------------------

export const sqsOperations: Record<string, SqsOperation> = {
  async CreateQueue(ctx, input) {
    const name = str(input, 'QueueName', true)
    const q = await ctx.queues.create(
      ctx.scope,
      name,
      stringMap(input, 'Attributes'),
      stringMap(input, 'tags'),
    )
    return { QueueUrl: queueUrl(ctx, q) }
  },

  GetQueueUrl(ctx, input) {
    const name = str(input, 'QueueName', true)
    const owner = str(input, 'QueueOwnerAWSAccountId') ?? ctx.scope.account
    const q = ctx.queues.find({ account: owner, region: ctx.scope.region }, name)
    if (!q) throw noSuchQueue()
    return { QueueUrl: queueUrl(ctx, q) }
  },

  ListQueues(ctx, input) {
    const found = ctx.queues.list(ctx.scope, str(input, 'QueueNamePrefix') ?? '')
    return page(ctx, input, found, 'QueueUrls')
  },

  ListDeadLetterSourceQueues(ctx, input) {
    return page(ctx, input, ctx.queues.sourcesOf(queueOf(ctx, input)), 'queueUrls')
  },

  async DeleteQueue(ctx, input) {
    await ctx.queues.delete(queueOf(ctx, input))
    return undefined
  },

  async GetQueueAttributes(ctx, input) {
    const q = queueOf(ctx, input)
    const attributes = await ctx.queues.attributes(q, stringList(input, 'AttributeNames'))
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}
  },

  async SetQueueAttributes(ctx, input) {
    const q = queueOf(ctx, input)
    await ctx.queues.setAttributes(q, stringMap(input, 'Attributes'))
    return undefined
  },

  async PurgeQueue(ctx, input) {
    await ctx.queues.purge(queueOf(ctx, input))
    return undefined
  },

  async SendMessage(ctx, input) {
    const q = queueOf(ctx, input)
    const [result] = await ctx.queues.send(q, [sendEntry(input)], ctx.senderId)
    if (result instanceof QueueError) throw result
    return sendOutput(result!)
  },

  async SendMessageBatch(ctx, input) {
    const q = queueOf(ctx, input)
    const list = entries(input, 'SendMessageBatchRequestEntry')
    let total = 0
    const prepared: { id: string; entry?: SendEntry; error?: QueueError }[] = list.map((e) => {
      const id = e.Id as string
      try {
        const entry = sendEntry(e)
        total += Buffer.byteLength(entry.body, 'utf8')
        return { id, entry }
      } catch (err) {
        if (!(err instanceof QueueError)) throw err
        return { id, error: err }
      }
    })
    // The whole batch is held to SQS's payload limit; each entry to the queue's own (below).
    if (total > MAX_MESSAGE_SIZE)
      throw new QueueError(
        'AWS.SimpleQueueService.BatchRequestTooLong',
        `Batch requests cannot be longer than ${String(MAX_MESSAGE_SIZE)} bytes. You have sent ${String(total)} bytes.`,
      )
    const valid = prepared.filter((p) => p.entry)
    const results = await ctx.queues.send(
      q,
      valid.map((p) => p.entry!),
      ctx.senderId,
      { batch: true },
    )
    const successful: unknown[] = []
    const failed: unknown[] = []
    let i = 0
    for (const p of prepared) {
      if (p.error) {
        failed.push(failure(p.id, p.error))
        continue
      }
      const r = results[i++]!
      if (r instanceof QueueError) failed.push(failure(p.id, r))
      else successful.push({ Id: p.id, ...sendOutput(r) })
    }
    return { Successful: successful, Failed: failed }
  },

  async ReceiveMessage(ctx, input) {
    const q = queueOf(ctx, input)
    const max = int(input, 'MaxNumberOfMessages')
    range(max, 'MaxNumberOfMessages', 1, 10, 'Must be between 1 and 10, if provided.')
    const wait = int(input, 'WaitTimeSeconds')
    range(wait, 'WaitTimeSeconds', 0, 20, 'Must be >= 0 and <= 20, if provided.')
    const visibility = int(input, 'VisibilityTimeout')
    range(visibility, 'VisibilityTimeout', 0, 43_200, 'Must be >= 0 and <= 43200, if provided.')
    // Everything is checked before any message is taken.
    const systemNames = [
      ...stringList(input, 'AttributeNames'),
      ...stringList(input, 'MessageSystemAttributeNames'),
    ]
    const attributeNames = stringList(input, 'MessageAttributeNames')
    const messages = await ctx.queues.receive(
      q,
      {
        max: max ?? 1,
        ...(visibility !== undefined ? { visibilityTimeout: visibility } : {}),
        ...(wait !== undefined ? { waitSeconds: wait } : {}),
      },
      ctx.abortSignal,
    )
    if (messages.length === 0) return {}
    return { Messages: messages.map((m) => messageOutput(m, systemNames, attributeNames)) }
  },

  async DeleteMessage(ctx, input) {
    const q = queueOf(ctx, input)
    const [error] = await ctx.queues.deleteMessages(q, [str(input, 'ReceiptHandle', true)])
    if (error) throw error
    return undefined
  },

  async DeleteMessageBatch(ctx, input) {
    const q = queueOf(ctx, input)
    const list = entries(input, 'DeleteMessageBatchRequestEntry')
    const handles = list.map((e) => str(e, 'ReceiptHandle', true))
    const results = await ctx.queues.deleteMessages(q, handles)
    return batchOutcome(list, results)
  },

  async ChangeMessageVisibility(ctx, input) {
    const q = queueOf(ctx, input)
    const handle = str(input, 'ReceiptHandle', true)
    const timeout = visibilityOf(input)
    const [error] = await ctx.queues.changeVisibility(q, [{ handle, timeout }])
    if (error) throw error
    return undefined
  },

  async ChangeMessageVisibilityBatch(ctx, input) {
    const q = queueOf(ctx, input)
    const list = entries(input, 'ChangeMessageVisibilityBatchRequestEntry')
    const changes = list.map((e) => ({
      handle: str(e, 'ReceiptHandle', true),
      timeout: visibilityOf(e),
    }))
    return batchOutcome(list, await ctx.queues.changeVisibility(q, changes))
  },

  async AddPermission(ctx, input) {
    const q = queueOf(ctx, input)
    const label = str(input, 'Label', true)
    const accounts = stringList(input, 'AWSAccountIds')
    const actions = stringList(input, 'Actions')
    if (accounts.length === 0) throw missing('AWSAccountIds')
    if (actions.length === 0) throw missing('Actions')
    await ctx.queues.addPermission(q, label, accounts, actions)
    return undefined
  },

  async RemovePermission(ctx, input) {
    const q = queueOf(ctx, input)
    await ctx.queues.removePermission(q, str(input, 'Label', true))
    return undefined
  },

  async TagQueue(ctx, input) {
    const q = queueOf(ctx, input)
    await ctx.queues.tag(q, stringMap(input, 'Tags'))
    return undefined
  },

  async UntagQueue(ctx, input) {
    const q = queueOf(ctx, input)
    await ctx.queues.untag(q, stringList(input, 'TagKeys'))
    return undefined
  },

  ListQueueTags(ctx, input) {
    const q = queueOf(ctx, input)
    return Object.keys(q.record.tags).length > 0 ? { Tags: { ...q.record.tags } } : {}
  },
}

function visibilityOf(input: Input): number {
  const timeout = int(input, 'VisibilityTimeout')
  if (timeout === undefined) throw missing('VisibilityTimeout')
  range(
    timeout,
    'VisibilityTimeout',
    0,
    43_200,
    'VisibilityTimeout must be an integer between 0 and 43200',
  )
  return timeout
}

function batchOutcome(list: Input[], results: (QueueError | undefined)[]): Output {
  const successful: unknown[] = []
  const failed: unknown[] = []
  list.forEach((e, i) => {
    const id = e.Id as string
    const error = results[i]
    if (error) failed.push(failure(id, error))
    else successful.push({ Id: id })
  })
  return { Successful: successful, Failed: failed }
}
