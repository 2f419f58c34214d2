/**
 * @module
 * Prometheus metrics under EventBridge's CloudWatch names (namespace `AWS/Events`), labelled
 * `EventBusName` and `RuleName` as CloudWatch's dimensions are. One registry per bus instance,
 * so several instances in one process (tests) do not share counts.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

export type Metrics = ReturnType<typeof createMetrics>

export function createMetrics() {
  const registry = new Registry()
  const bus = ['EventBusName'] as const
  const rule = ['EventBusName', 'RuleName'] as const
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter({ name, help, labelNames, registers: [registry] })

  return {
    registry,
    putEventsRequests: counter('PutEventsApproximateCallCount', 'PutEvents requests', []),
    putEventsEntries: counter('PutEventsEntriesCount', 'PutEvents entries received', []),
    putEventsFailedEntries: counter('PutEventsFailedEntriesCount', 'PutEvents entries refused', []),
    matchedEvents: counter('MatchedEvents', 'Events that matched at least one rule', bus),
    triggeredRules: counter('TriggeredRules', 'Rules that matched an event', rule),
    invocations: counter(
      'Invocations',
      'Target invocations that finished (delivered or failed for good), retries excluded',
      rule,
    ),
    failedInvocations: counter(
      'FailedInvocations',
      'Invocations that failed for good (retries exhausted or not retryable)',
      rule,
    ),
    invocationAttempts: counter('InvocationAttempts', 'Every attempt, retries included', rule),
    successfulInvocationAttempts: counter(
      'SuccessfulInvocationAttempts',
      'Attempts the target accepted',
      rule,
    ),
    retryInvocationAttempts: counter('RetryInvocationAttempts', 'Attempts that were retries', rule),
    deadLetterInvocations: counter(
      'DeadLetterInvocations',
      'Invocations not made, e.g. a bus target skipped by the one-hop rule',
      rule,
    ),
    invocationsSentToDlq: counter(
      'InvocationsSentToDlq',
      'Events sent to a dead-letter queue',
      rule,
    ),
    invocationsFailedToBeSentToDlq: counter(
      'InvocationsFailedToBeSentToDlq',
      'Events whose dead-letter queue does not exist (kept in the store until it is created)',
      rule,
    ),
    throttledRules: counter('ThrottledRules', 'Invocations delayed by a rate limit', rule),
    ingestionToInvocationStartLatency: new Histogram({
      name: 'IngestionToInvocationStartLatency',
      help: 'Milliseconds from ingestion to the first invocation attempt',
      labelNames: rule,
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000],
      registers: [registry],
    }),
    // Junction's own, for scheduled rules (CloudWatch has no such metrics).
    scheduleMissedTicks: counter(
      'JunctionScheduleMissedTicks',
      'Ticks of scheduled rules not fired: due while the server was down (or stalled) for longer than the grace period',
      rule,
    ),
    scheduleLateness: new Histogram({
      name: 'JunctionScheduleLatenessMs',
      help: 'Milliseconds from a tick of a scheduled rule to the commit of its event',
      labelNames: rule,
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000, 60000, 300000],
      registers: [registry],
    }),
    // Change-capture sources (src/cdc/), labelled by account and source name.
    cdcChangesCaptured: counter(
      'JunctionCdcChangesCaptured',
      'Row changes a source stored on its bus',
      ['Account', 'Source'],
    ),
    cdcLagBytes: new Gauge({
      name: 'JunctionCdcLagBytes',
      help: "Bytes of the database's log (WAL, binlog) between its current position and the source's checkpoint",
      labelNames: ['Account', 'Source'],
      registers: [registry],
    }),
    cdcLagSeconds: new Gauge({
      name: 'JunctionCdcLagSeconds',
      help: "Seconds between the commit time of the source's last stored change and now",
      labelNames: ['Account', 'Source'],
      registers: [registry],
    }),
  }
}
