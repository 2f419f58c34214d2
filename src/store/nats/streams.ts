/**
 * @module
 * The JetStream streams, consumer and bucket that delivery jobs use, created on first use and
 * brought to the configuration asked for when they exist already. Every node runs this at start;
 * two nodes starting together both succeed (creating the same configuration twice is allowed).
 */
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'

export const JOBS_STREAM = 'JUNCTION_JOBS'
export const JOBS_SUBJECT_PREFIX = 'junction.jobs'
/** The one durable consumer every node pulls jobs from: the work is split between them. */
export const JOBS_CONSUMER = 'junction-delivery'
export const DEAD_LETTERS_STREAM = 'JUNCTION_DEAD_LETTERS'
export const DEAD_LETTERS_SUBJECT_PREFIX = 'junction.dead-letters'
export const TICKS_BUCKET = 'junction-ticks'

/**
 * How long a published job's message id is remembered: an append retried within it is not
 * stored twice.
 */
export const DUPLICATE_WINDOW_MS = 120_000

export type JobStreamSettings = {
  replicas: number
  ackWaitMs: number
  maxAckPending: number
}

function isNotFound(e: unknown): boolean {
  return (
    e instanceof JetStreamApiError &&
    (e.code === JetStreamApiCodes.StreamNotFound || e.code === JetStreamApiCodes.ConsumerNotFound)
  )
}

async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
) {
  try {
    await jsm.streams.info(config.name)
  } catch (e) {
    if (!isNotFound(e)) throw e
    await jsm.streams.add(config)
    return
  }
  await jsm.streams.update(config.name, config)
}

/** The jobs stream (a work queue: an acked job is gone), its consumer, and the dead letters. */
export async function ensureJobStreams(
  jsm: JetStreamManager,
  settings: JobStreamSettings,
): Promise<void> {
  await ensureStream(jsm, {
    name: JOBS_STREAM,
    subjects: [`${JOBS_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: settings.replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  })
  // Dead letters are kept until read back (no age limit): they stand for events owed to a queue.
  await ensureStream(jsm, {
    name: DEAD_LETTERS_STREAM,
    subjects: [`${DEAD_LETTERS_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: settings.replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  })
  const limits = { ack_wait: nanos(settings.ackWaitMs), max_ack_pending: settings.maxAckPending }
  const consumer: Partial<ConsumerConfig> = {
    ...limits,
    durable_name: JOBS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // A job waiting for its due time is nak'd with a delay, which counts as a delivery: never cap them.
    max_deliver: -1,
  }
  try {
    await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER)
  } catch (e) {
    if (!isNotFound(e)) throw e
    await jsm.consumers.add(JOBS_STREAM, consumer)
    return
  }
  await jsm.consumers.update(JOBS_STREAM, JOBS_CONSUMER, limits)
}
