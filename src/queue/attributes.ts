/**
 * @module
 * Queue attributes: which exist, their defaults and ranges, and the parsed settings the engine
 * runs on. Values are strings on the wire and in the store, as SQS keeps them.
 */
import { QueueError } from './errors.js'

/** SQS's current message size limit (raised from 256 KiB to 1 MiB in 2025). */
export const MAX_MESSAGE_SIZE = 1_048_576

type NumberAttribute = { min: number; max: number; default: number }

const NUMBERS: Record<string, NumberAttribute> = {
  DelaySeconds: { min: 0, max: 900, default: 0 },
  MaximumMessageSize: { min: 1024, max: MAX_MESSAGE_SIZE, default: MAX_MESSAGE_SIZE },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, default: 345_600 },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, default: 0 },
  VisibilityTimeout: { min: 0, max: 43_200, default: 30 },
  KmsDataKeyReusePeriodSeconds: { min: 60, max: 86_400, default: 300 },
}

/** Attributes a caller may set on any queue (FifoQueue only at creation). */
const COMMON = new Set([
  ...Object.keys(NUMBERS),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
])
const FIFO_ONLY = new Set([
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
])

/** What GetQueueAttributes computes rather than stores. */
export const COMPUTED = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const

/** Every attribute name GetQueueAttributes knows, in the order `All` lists them. */
export const ATTRIBUTE_NAMES = new Set<string>([
  'All',
  ...COMPUTED,
  ...COMMON,
  'FifoQueue',
  ...FIFO_ONLY,
])

export type Redrive = { deadLetterTargetArn: string; maxReceiveCount: number }

export type QueueSettings = {
  fifo: boolean
  contentBasedDeduplication: boolean
  /** FIFO deduplication ids are unique per queue, or per message group. */
  deduplicationScope: 'queue' | 'messageGroup'
  delaySeconds: number
  maximumMessageSize: number
  messageRetentionPeriod: number
  receiveMessageWaitTimeSeconds: number
  visibilityTimeout: number
  redrive?: Redrive
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/
const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/

export function checkQueueName(name: string, fifo: boolean): void {
  if (fifo ? !FIFO_QUEUE_NAME.test(name) : !QUEUE_NAME.test(name))
    throw new QueueError(
      'InvalidParameterValue',
      fifo
        ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
        : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    )
}

/** The attributes a new queue starts with, before the caller's. */
export function defaultAttributes(fifo: boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, n] of Object.entries(NUMBERS))
    if (name !== 'KmsDataKeyReusePeriodSeconds') out[name] = String(n.default)
  out.SqsManagedSseEnabled = 'true'
  if (fifo) {
    out.FifoQueue = 'true'
    out.ContentBasedDeduplication = 'false'
    out.DeduplicationScope = 'queue'
    out.FifoThroughputLimit = 'perQueue'
  }
  return out
}

/**
 * Checks attributes given to CreateQueue or SetQueueAttributes and returns them normalised
 * (RedrivePolicy re-serialised as SQS echoes it). `findQueue` resolves a dead-letter ARN.
 */
export function checkAttributes(
  given: Record<string, string>,
  queue: { fifo: boolean; arn: string },
  findQueue: (arn: string) => { fifo: boolean } | undefined,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(given)) {
    if (!queue.fifo && (name === 'DeduplicationScope' || name === 'FifoThroughputLimit'))
      throw new QueueError(
        'InvalidAttributeName',
        `You can specify the ${name} only when FifoQueue is set to true.`,
      )
    // Standard queues have no FifoQueue attribute at all, not even "false".
    const known = COMMON.has(name) || (queue.fifo && (FIFO_ONLY.has(name) || name === 'FifoQueue'))
    if (!known) throw new QueueError('InvalidAttributeName', `Unknown Attribute ${name}.`)
    const bad = () =>
      new QueueError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`)
    const range = NUMBERS[name]
    if (range) {
      if (!/^-?\d+$/.test(value.trim())) throw bad()
      const n = Number(value.trim())
      if (n < range.min || n > range.max) throw bad()
      out[name] = String(n)
      continue
    }
    switch (name) {
      case 'FifoQueue':
      case 'ContentBasedDeduplication':
      case 'SqsManagedSseEnabled': {
        const v = value.toLowerCase()
        if (v !== 'true' && v !== 'false') throw bad()
        out[name] = v
        break
      }
      case 'DeduplicationScope':
        if (value !== 'queue' && value !== 'messageGroup') throw bad()
        out[name] = value
        break
      case 'FifoThroughputLimit':
        if (value !== 'perQueue' && value !== 'perMessageGroupId') throw bad()
        out[name] = value
        break
      case 'RedrivePolicy':
        out[name] = value === '' ? '' : JSON.stringify(checkRedrive(value, queue, findQueue))
        break
      case 'Policy':
      case 'RedriveAllowPolicy':
        if (value !== '') {
          try {
            JSON.parse(value)
          } catch {
            throw bad()
          }
        }
        out[name] = value
        break
      default:
        out[name] = value
    }
  }
  if (out.FifoQueue === 'false')
    throw new QueueError(
      'InvalidAttributeValue',
      'Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.',
    )
  if (out.FifoThroughputLimit === 'perMessageGroupId' && out.DeduplicationScope === 'queue')
    throw new QueueError(
      'InvalidAttributeValue',
      'Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId can only be used when the value of DeduplicationScope is messageGroup.',
    )
  return out
}

function checkRedrive(
  text: string,
  queue: { fifo: boolean; arn: string },
  findQueue: (arn: string) => { fifo: boolean } | undefined,
): Redrive {
  const invalid = (reason: string) =>
    new QueueError(
      'InvalidParameterValue',
      `Value ${text} for parameter RedrivePolicy is invalid. Reason: ${reason}`,
    )
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw invalid('Redrive policy is not a valid JSON map.')
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid('Redrive policy is not a valid JSON map.')
  const { deadLetterTargetArn: arn, maxReceiveCount: count } = doc as Record<string, unknown>
  if (arn === undefined)
    throw invalid('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.')
  if (count === undefined)
    throw invalid('Redrive policy does not contain mandatory attribute: maxReceiveCount.')
  const n = typeof count === 'number' ? count : typeof count === 'string' ? Number(count) : NaN
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw invalid(
      `Invalid value for maxReceiveCount: ${JSON.stringify(count)}, valid values are from 1 to 1000 both inclusive.`,
    )
  if (typeof arn !== 'string') throw invalid('Dead-letter target does not exist.')
  const target = findQueue(arn)
  if (!target) throw invalid('Dead-letter target does not exist.')
  if (target.fifo !== queue.fifo)
    throw invalid(
      queue.fifo
        ? 'Dead-letter queue must be same type of queue as the source.'
        : 'Dead-letter queue must be same type of queue as the source.',
    )
  if (arn === queue.arn) throw invalid('Dead-letter target cannot be the same as the source queue.')
  return { deadLetterTargetArn: arn, maxReceiveCount: n }
}

export function settingsOf(attributes: Record<string, string>): QueueSettings {
  const num = (name: string) => Number(attributes[name] ?? NUMBERS[name]!.default)
  const settings: QueueSettings = {
    fifo: attributes.FifoQueue === 'true',
    contentBasedDeduplication: attributes.ContentBasedDeduplication === 'true',
    deduplicationScope: attributes.DeduplicationScope === 'messageGroup' ? 'messageGroup' : 'queue',
    delaySeconds: num('DelaySeconds'),
    maximumMessageSize: num('MaximumMessageSize'),
    messageRetentionPeriod: num('MessageRetentionPeriod'),
    receiveMessageWaitTimeSeconds: num('ReceiveMessageWaitTimeSeconds'),
    visibilityTimeout: num('VisibilityTimeout'),
  }
  const redrive = attributes.RedrivePolicy
  if (redrive) settings.redrive = JSON.parse(redrive) as Redrive
  return settings
}
