/**
 * @module
 * The errors the queue engine raises. `code` is the SQS error code clients see (the query
 * protocol's `<Code>`, and the JSON protocol's `x-amzn-query-error`); the api layer adds the
 * JSON `__type` and the HTTP status.
 */

export type QueueErrorCode =
  | 'AWS.SimpleQueueService.NonExistentQueue'
  | 'QueueAlreadyExists'
  | 'InvalidAttributeName'
  | 'InvalidAttributeValue'
  | 'InvalidParameterValue'
  | 'MissingParameter'
  | 'ReceiptHandleIsInvalid'
  | 'AWS.SimpleQueueService.PurgeQueueInProgress'
  | 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest'
  | 'AWS.SimpleQueueService.EmptyBatchRequest'
  | 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct'
  | 'AWS.SimpleQueueService.InvalidBatchEntryId'
  | 'AWS.SimpleQueueService.BatchRequestTooLong'
  | 'InvalidMessageContents'
  | 'InvalidAddress'
  | 'InvalidAction'
  | 'InternalFailure'

export class QueueError extends Error {
  readonly code: QueueErrorCode
  /** True when the sender is at fault (query `<Type>Sender`, batch `SenderFault`). */
  readonly senderFault: boolean

  constructor(code: QueueErrorCode, message: string, options?: { senderFault?: boolean }) {
    super(message)
    this.name = code
    this.code = code
    this.senderFault = options?.senderFault ?? true
  }
}

export const noSuchQueue = () =>
  new QueueError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.')

export const invalidParameter = (message: string) =>
  new QueueError('InvalidParameterValue', message)
