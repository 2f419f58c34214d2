/**
 * @module
 * Queues and their messages as the queue engine and the store see them. Attribute values stay
 * strings, as SQS defines them (GetQueueAttributes answers strings); {@link QueueSettings} is the
 * parsed form the engine works with.
 */

/** A queue as stored. `id` changes when a queue is deleted and created again under its name. */
export type QueueRecord = {
  id: string
  name: string
  account: string
  region: string
  /** Every attribute that has a value, by its SQS name (VisibilityTimeout, RedrivePolicy, …). */
  attributes: Record<string, string>
  tags: Record<string, string>
  /** Milliseconds since the epoch. */
  createdAt: number
  modifiedAt: number
}

/** A message attribute as SendMessage takes it; binary values are kept base64-encoded. */
export type MessageAttributeValue = {
  dataType: string
  stringValue?: string
  binaryValue?: string
}

export type StoredMessage = {
  /** Store key and global send order; FIFO sequence numbers are made from it. */
  seq: number
  queueId: string
  id: string
  body: string
  attributes?: Record<string, MessageAttributeValue>
  /** The `AWSTraceHeader` system attribute, when the sender set one. */
  traceHeader?: string
  senderId: string
  groupId?: string
  dedupId?: string
  /** The queue a redrive moved this message from (`DeadLetterQueueSourceArn`). */
  sourceArn?: string
  sentAt: number
  /** Hidden until then: delayed when never received, in flight after a receive. */
  visibleAt: number
  receiveCount: number
  firstReceivedAt?: number
  /** The token of the latest receive; a receipt handle must carry it to act on the message. */
  receipt?: string
  /** When the latest receive took it: its visibility may reach at most 12 hours past that. */
  receivedAt?: number
}

/** A FIFO deduplication id seen recently (5 minutes), with the message it produced. */
export type DedupRecord = {
  queueId: string
  key: string
  messageId: string
  seq: number
  at: number
}

/** The changes the queue engine makes; each `write` call is applied atomically. */
export type QueueWrite =
  | { t: 'putQueue'; queue: QueueRecord }
  /** Removes the queue with all its messages and deduplication records. */
  | { t: 'dropQueue'; queueId: string }
  | { t: 'insert'; messages: StoredMessage[]; dedup: DedupRecord[] }
  /** A receive, a visibility change, or a move to a dead-letter queue. */
  | {
      t: 'update'
      messages: {
        seq: number
        queueId: string
        visibleAt: number
        receiveCount: number
        firstReceivedAt?: number
        receipt?: string
        receivedAt?: number
      }[]
    }
  | { t: 'remove'; seqs: number[] }
  /** Every message of the queue sent up to `upToSeq`. */
  | { t: 'purge'; queueId: string; upToSeq: number }
  | { t: 'pruneDedup'; before: number }
  /** A delivery job that ends with this write (its dead letter is stored in the same commit). */
  | { t: 'finishJob'; jobId: number }
  /** Dead letters recorded before their queue existed, now moved into it. */
  | { t: 'dropDeadLetters'; jobIds: number[] }

/** What a start reads: no messages (they are paged in, see {@link QueueCensus}). */
export type QueueSnapshot = {
  queues: QueueRecord[]
  dedup: DedupRecord[]
  maxSeq: number
}

/**
 * Where a page of a queue's messages starts: after this key. Standard queues page by
 * (visibleAt, seq), FIFO queues by seq alone (send order), with `visibleAt` unused.
 */
export type PageKey = { visibleAt: number; seq: number }

/**
 * A queue's stored messages counted by state at a start, without reading them: those visible at
 * `at`, and the hidden ones by the second they become visible (`due`: the end of that second).
 */
export type QueueCensus = {
  visible: number
  hidden: { due: number; inflight: number; delayed: number }[]
  /** The highest seq of a message in flight (0 if none): a FIFO queue pages in at least that far. */
  maxInflightSeq: number
}

/** The fields of a message that decide its state, as the retention sweep reads them. */
export type MessageTimes = Pick<
  StoredMessage,
  'seq' | 'id' | 'sentAt' | 'visibleAt' | 'receiveCount'
>
