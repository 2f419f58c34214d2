/**
 * @module
 * SQS messages as JetStream messages, and the receipt handles of distributed mode.
 *
 * A message's data is a 4-byte length, then its metadata as JSON, then its body as UTF-8 bytes:
 * the body is kept as sent (no JSON escaping, which could double a body's size against NATS's
 * payload limit).
 *
 * A receipt handle names the queue, the message, when it was received, and the ack subject of
 * that delivery: any node can act on it (an ack or nak is a publish to that subject), so a
 * message received through one node can be deleted through another.
 */
import type { MessageAttributeValue } from '../../queue/model.js'

/** What a message carries besides its body. */
export type QueueMessageMeta = {
  id: string
  senderId: string
  sentAt: number
  attributes?: Record<string, MessageAttributeValue>
  traceHeader?: string
  /** The queue a redrive moved it from (`DeadLetterQueueSourceArn`). */
  sourceArn?: string
  /** Receives before it arrived here (a redrive keeps the count). */
  receiveBase?: number
  /** Sent with a delay: receivable from then on. */
  notBefore?: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeQueueMessage(meta: QueueMessageMeta, body: string): Uint8Array {
  const head = encoder.encode(JSON.stringify(meta))
  const tail = encoder.encode(body)
  const out = new Uint8Array(4 + head.length + tail.length)
  new DataView(out.buffer).setUint32(0, head.length)
  out.set(head, 4)
  out.set(tail, 4 + head.length)
  return out
}

export function decodeQueueMessage(data: Uint8Array): { meta: QueueMessageMeta; body: string } {
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)
  return {
    meta: JSON.parse(decoder.decode(data.subarray(4, 4 + n))) as QueueMessageMeta,
    body: decoder.decode(data.subarray(4 + n)),
  }
}

export type NatsHandle = { queueId: string; messageId: string; receivedAt: number; ack: string }

export const makeNatsHandle = (h: NatsHandle) =>
  Buffer.from(`${h.queueId} ${h.messageId} ${String(h.receivedAt)} ${h.ack}`, 'utf8').toString(
    'base64',
  )

export function parseNatsHandle(handle: string): NatsHandle | undefined {
  if (!/^[A-Za-z0-9+/=]+$/.test(handle)) return undefined
  const parts = Buffer.from(handle, 'base64').toString('utf8').split(' ')
  if (parts.length !== 4 || parts.some((p) => p === '') || !/^\d{1,15}$/.test(parts[2]!))
    return undefined
  return {
    queueId: parts[0]!,
    messageId: parts[1]!,
    receivedAt: Number(parts[2]),
    ack: parts[3]!,
  }
}
