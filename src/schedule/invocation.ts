/**
 * @module
 * A schedule's tick as a delivery: the stored "event" is what the target receives, and the
 * schedule stands in for the rule and target the dispatcher looks up, so the dispatcher's
 * retries (the schedule's RetryPolicy), dead-letter queue and metrics serve schedules unchanged.
 *
 * - SQS target: the message body is the schedule's Input.
 * - Event-bus target: a PutEvents entry made of `EventBridgeParameters` (`Source`,
 *   `DetailType`) and the Input as its Detail; the bus routes it as any event.
 * - The Input's context placeholders (scheduler-cdc-consoles.md §1.1): `<aws.scheduler.schedule-arn>`
 *   and `<aws.scheduler.scheduled-time>` (the tick, not the flexible invocation time) are replaced
 *   when the tick is stored; `<aws.scheduler.execution-id>` (a new one for each attempt) and
 *   `<aws.scheduler.attempt-number>` (1 for the first) at each attempt ({@link scheduleRoute}).
 */
import { randomUUID } from 'node:crypto'
import { tickEventId } from '../engine/tick-id.js'
import { envelopeText, envelopeTime } from '../engine/envelope.js'
import { DEFAULT_RETRY_POLICY, type Rule, type StoredEvent, type Target } from '../model.js'
import type { Schedule } from './schedules.js'

/** The delivery jobs' target id for a schedule's single target. */
export const SCHEDULE_TARGET_ID = 'schedule'

/**
 * What a schedule sends when it has no Input. AWS sends "a default notification" it does not
 * describe; Junction sends an empty JSON object.
 */
const DEFAULT_INPUT = '{}'

export const isBusTarget = (arn: string) => /^arn:aws[^:]*:events:[^:]*:[^:]*:event-bus\//.test(arn)

/** The tick's invocation as a stored event (its `text` is what the target receives). */
export function scheduleInvocation(schedule: Schedule, tick: number, now: number): StoredEvent {
  const id = tickEventId(schedule.arn, schedule.since, tick)
  const raw = (schedule.target.Input as string | undefined) ?? DEFAULT_INPUT
  const input = raw
    .replaceAll('<aws.scheduler.schedule-arn>', schedule.arn)
    .replaceAll('<aws.scheduler.scheduled-time>', envelopeTime(tick))
  const arn = schedule.target.Arn as string
  let text = input
  if (isBusTarget(arn)) {
    const p = (schedule.target.EventBridgeParameters ?? {}) as {
      Source?: string
      DetailType?: string
    }
    text = envelopeText({
      id,
      // CreateSchedule requires both for a bus target; the defaults are never expected to serve.
      detailType: p.DetailType ?? 'Scheduled Event',
      source: p.Source ?? 'aws.scheduler',
      account: schedule.account,
      time: envelopeTime(tick),
      region: schedule.region,
      resources: [],
      detailText: input,
    })
  }
  return { id, busArn: schedule.arn, text, ingestedAt: now, hops: 0 }
}

/** The rule and target the dispatcher delivers a schedule's invocation with. */
export function scheduleRoute(schedule: Schedule): {
  rule: Rule
  target: Target
  render: (text: string, attempt: number) => string
} {
  const t = schedule.target
  const retry = (t.RetryPolicy ?? {}) as {
    MaximumEventAgeInSeconds?: number
    MaximumRetryAttempts?: number
  }
  const dlq = (t.DeadLetterConfig as { Arn?: string } | undefined)?.Arn
  const group = (t.SqsParameters as { MessageGroupId?: string } | undefined)?.MessageGroupId
  const rule: Rule = {
    name: schedule.name,
    arn: schedule.arn,
    busName: schedule.group,
    account: schedule.account,
    region: schedule.region,
    state: 'ENABLED',
    createdBy: schedule.account,
  }
  const target: Target = {
    id: SCHEDULE_TARGET_ID,
    arn: t.Arn as string,
    ...(typeof t.RoleArn === 'string' ? { roleArn: t.RoleArn } : {}),
    input: { kind: 'event' },
    retryPolicy: {
      maximumRetryAttempts: retry.MaximumRetryAttempts ?? DEFAULT_RETRY_POLICY.maximumRetryAttempts,
      maximumEventAgeSeconds:
        retry.MaximumEventAgeInSeconds ?? DEFAULT_RETRY_POLICY.maximumEventAgeSeconds,
    },
    ...(dlq === undefined ? {} : { deadLetterArn: dlq }),
    ...(group === undefined ? {} : { sqsMessageGroupId: group }),
    spec: t,
  }
  const render = (text: string, attempt: number) =>
    text.includes('<aws.scheduler.')
      ? text
          .replaceAll('<aws.scheduler.execution-id>', randomUUID())
          .replaceAll('<aws.scheduler.attempt-number>', String(attempt))
      : text
  return { rule, target, render }
}
