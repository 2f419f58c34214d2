/**
 * @module
 * MessageRetentionPeriod for messages no receive meets: JetStream keeps one age limit per
 * stream, not per queue, so each queue's expired messages are purged by sequence. A queue's
 * messages are in send order on its subject, so the expired ones are a prefix: the last of them
 * is found by bisecting the stream's sequences (a message read per step), and everything up to
 * it is purged in one call. Send times come from the nodes' clocks, so a message sent through a
 * node whose clock runs behind may outlive its time a little (a receive still drops it).
 */
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream'
import { decodeQueueMessage } from './queue-codec.js'
import { QUEUES_STREAM } from './queue-streams.js'

/** Purges the messages on `subject` sent before `sentBefore`. */
export async function expireBefore(
  jsm: JetStreamManager,
  subject: string,
  sentBefore: number,
): Promise<void> {
  // The first message of the subject at or after `seq`, and whether it has expired.
  const at = async (seq: number) => {
    const m = await jsm.streams.getMessage(QUEUES_STREAM, {
      seq,
      next_by_subj: subject,
    } as MsgRequest)
    return m && { seq: m.seq, expired: decodeQueueMessage(m.data).meta.sentAt < sentBefore }
  }
  const first = await at(0)
  if (!first?.expired) return
  let boundary = first.seq + 1
  let lo = first.seq + 1
  let hi = (await jsm.streams.info(QUEUES_STREAM)).state.last_seq
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2)
    const m = await at(mid)
    if (m?.expired) {
      boundary = m.seq + 1
      lo = m.seq + 1
    } else hi = mid - 1
  }
  // Removes the subject's messages with a sequence below the boundary.
  await jsm.streams.purge(QUEUES_STREAM, { filter: subject, seq: boundary })
}
