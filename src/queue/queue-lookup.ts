/**
 * @module
 * Lookups over a set of queues that both queue engines (one process, NATS) answer the same way.
 */
import type { Scope } from '../model.js'
import type { QueueRecord } from './model.js'

type Listed = {
  arn: string
  record: QueueRecord
  settings: { redrive?: { deadLetterTargetArn: string } | undefined }
}

const byName = (a: Listed, b: Listed) =>
  a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0

/** The caller's queues whose names start with `prefix`, by name (ListQueues). */
export function listQueues<Q extends Listed>(
  queues: Iterable<Q>,
  scope: Scope,
  prefix: string,
): Q[] {
  return [...queues]
    .filter(
      (q) =>
        q.record.account === scope.account &&
        q.record.region === scope.region &&
        q.record.name.startsWith(prefix),
    )
    .sort(byName)
}

/** Queues whose RedrivePolicy names `dlqArn` as their dead-letter queue, by name. */
export function redriveSources<Q extends Listed>(queues: Iterable<Q>, dlqArn: string): Q[] {
  return [...queues].filter((s) => s.settings.redrive?.deadLetterTargetArn === dlqArn).sort(byName)
}
