/**
 * @module
 * The SQS operations' input and output shapes, as far as the query protocol needs them: which
 * members are lists and maps, and the names they take on the wire (`Attribute.1.Name`,
 * `SendMessageBatchRequestEntry.1.Id`, `<Message>`…). The JSON protocol uses the member names
 * as they are, so handlers see one shape whichever protocol a request came in.
 */

export type Shape = 'string' | 'integer' | 'boolean' | ListShape | MapShape | StructShape

/** A flattened list: `Name.1`, `Name.2` in a query, repeated `<Name>` elements in XML. */
export type ListShape = { kind: 'list'; name: string; member: Shape }

/** A flattened map: `Name.1.Key` / `Name.1.Value` in a query, `<Name><Key/><Value/></Name>` in XML. */
export type MapShape = { kind: 'map'; name: string; key: string; value: string; of: Shape }

export type StructShape = { kind: 'struct'; members: Record<string, Shape> }

const struct = (members: Record<string, Shape>): StructShape => ({ kind: 'struct', members })
const list = (name: string, member: Shape): ListShape => ({ kind: 'list', name, member })
const map = (name: string, key: string, value: string, of: Shape = 'string'): MapShape => ({
  kind: 'map',
  name,
  key,
  value,
  of,
})

const attributeValue = struct({
  StringValue: 'string',
  BinaryValue: 'string',
  DataType: 'string',
})
const queueAttributes = map('Attribute', 'Name', 'Value')
const tags = map('Tag', 'Key', 'Value')
const messageAttributes = map('MessageAttribute', 'Name', 'Value', attributeValue)
const systemAttributes = map('MessageSystemAttribute', 'Name', 'Value', attributeValue)
const batchError = struct({
  Id: 'string',
  SenderFault: 'boolean',
  Code: 'string',
  Message: 'string',
})
const idOnly = struct({ Id: 'string' })

const sendFields = {
  MessageBody: 'string',
  DelaySeconds: 'integer',
  MessageAttributes: messageAttributes,
  MessageSystemAttributes: systemAttributes,
  MessageDeduplicationId: 'string',
  MessageGroupId: 'string',
} satisfies Record<string, Shape>

const sendResult = {
  MD5OfMessageBody: 'string',
  MD5OfMessageAttributes: 'string',
  MD5OfMessageSystemAttributes: 'string',
  MessageId: 'string',
  SequenceNumber: 'string',
} satisfies Record<string, Shape>

export type OperationShapes = { input: StructShape; output?: StructShape }

export const SHAPES: Record<string, OperationShapes> = {
  CreateQueue: {
    input: struct({ QueueName: 'string', Attributes: queueAttributes, tags }),
    output: struct({ QueueUrl: 'string' }),
  },
  GetQueueUrl: {
    input: struct({ QueueName: 'string', QueueOwnerAWSAccountId: 'string' }),
    output: struct({ QueueUrl: 'string' }),
  },
  ListQueues: {
    input: struct({ QueueNamePrefix: 'string', NextToken: 'string', MaxResults: 'integer' }),
    output: struct({ QueueUrls: list('QueueUrl', 'string'), NextToken: 'string' }),
  },
  DeleteQueue: { input: struct({ QueueUrl: 'string' }) },
  GetQueueAttributes: {
    input: struct({ QueueUrl: 'string', AttributeNames: list('AttributeName', 'string') }),
    output: struct({ Attributes: queueAttributes }),
  },
  SetQueueAttributes: { input: struct({ QueueUrl: 'string', Attributes: queueAttributes }) },
  PurgeQueue: { input: struct({ QueueUrl: 'string' }) },
  ListDeadLetterSourceQueues: {
    input: struct({ QueueUrl: 'string', NextToken: 'string', MaxResults: 'integer' }),
    output: struct({ queueUrls: list('QueueUrl', 'string'), NextToken: 'string' }),
  },
  SendMessage: {
    input: struct({ QueueUrl: 'string', ...sendFields }),
    output: struct(sendResult),
  },
  SendMessageBatch: {
    input: struct({
      QueueUrl: 'string',
      Entries: list('SendMessageBatchRequestEntry', struct({ Id: 'string', ...sendFields })),
    }),
    output: struct({
      Successful: list('SendMessageBatchResultEntry', struct({ Id: 'string', ...sendResult })),
      Failed: list('BatchResultErrorEntry', batchError),
    }),
  },
  ReceiveMessage: {
    input: struct({
      QueueUrl: 'string',
      AttributeNames: list('AttributeName', 'string'),
      MessageSystemAttributeNames: list('MessageSystemAttributeName', 'string'),
      MessageAttributeNames: list('MessageAttributeName', 'string'),
      MaxNumberOfMessages: 'integer',
      VisibilityTimeout: 'integer',
      WaitTimeSeconds: 'integer',
      ReceiveRequestAttemptId: 'string',
    }),
    output: struct({
      Messages: list(
        'Message',
        struct({
          MessageId: 'string',
          ReceiptHandle: 'string',
          MD5OfBody: 'string',
          Body: 'string',
          Attributes: map('Attribute', 'Name', 'Value'),
          MD5OfMessageAttributes: 'string',
          MessageAttributes: messageAttributes,
        }),
      ),
    }),
  },
  DeleteMessage: { input: struct({ QueueUrl: 'string', ReceiptHandle: 'string' }) },
  DeleteMessageBatch: {
    input: struct({
      QueueUrl: 'string',
      Entries: list(
        'DeleteMessageBatchRequestEntry',
        struct({ Id: 'string', ReceiptHandle: 'string' }),
      ),
    }),
    output: struct({
      Successful: list('DeleteMessageBatchResultEntry', idOnly),
      Failed: list('BatchResultErrorEntry', batchError),
    }),
  },
  ChangeMessageVisibility: {
    input: struct({ QueueUrl: 'string', ReceiptHandle: 'string', VisibilityTimeout: 'integer' }),
  },
  ChangeMessageVisibilityBatch: {
    input: struct({
      QueueUrl: 'string',
      Entries: list(
        'ChangeMessageVisibilityBatchRequestEntry',
        struct({ Id: 'string', ReceiptHandle: 'string', VisibilityTimeout: 'integer' }),
      ),
    }),
    output: struct({
      Successful: list('ChangeMessageVisibilityBatchResultEntry', idOnly),
      Failed: list('BatchResultErrorEntry', batchError),
    }),
  },
  AddPermission: {
    input: struct({
      QueueUrl: 'string',
      Label: 'string',
      AWSAccountIds: list('AWSAccountId', 'string'),
      Actions: list('ActionName', 'string'),
    }),
  },
  RemovePermission: { input: struct({ QueueUrl: 'string', Label: 'string' }) },
  TagQueue: { input: struct({ QueueUrl: 'string', Tags: tags }) },
  UntagQueue: { input: struct({ QueueUrl: 'string', TagKeys: list('TagKey', 'string') }) },
  ListQueueTags: { input: struct({ QueueUrl: 'string' }), output: struct({ Tags: tags }) },
}
