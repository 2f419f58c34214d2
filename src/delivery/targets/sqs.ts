/**
 * @module
 * Queue targets: the event (or its transformed input) becomes the body of a message in one of
 * Junction's queues, as EventBridge sends it to SQS. FIFO queues take the target's
 * `SqsParameters.MessageGroupId` and, as with EventBridge, no deduplication id: the queue must
 * deduplicate by content, which also keeps an event redelivered after a crash from being queued
 * twice within five minutes.
 */
import { parseArn } from '../../arns.js'
import { allowsQueueSend } from '../../auth/policy.js'
import { QueueError } from '../../queue/errors.js'
import { EVENTBRIDGE_SENDER } from '../../queue/queues.js'
import type { QueueService } from '../../queue/service.js'
import type { InvocationResult, TargetAdapter } from './adapter.js'

export function createSqsAdapter(queues: QueueService): TargetAdapter {
  return {
    kind: 'sqs',
    accepts: (arn) => parseArn(arn)?.service === 'sqs',
    async invoke({ rule, target, body }): Promise<InvocationResult> {
      const q = queues.findByArn(target.arn)
      if (!q) return fail('NO_RESOURCE', `The queue ${target.arn} does not exist.`)
      // Another account's queue must allow it in its policy, as SQS requires.
      if (q.record.account !== rule.account && !allowsQueueSend(q.record.attributes.Policy, rule))
        return fail(
          'NO_PERMISSIONS',
          `EventBridge is not allowed to send messages to ${target.arn}.`,
        )
      const groupId = target.sqsMessageGroupId
      const [result] = await queues.send(
        q,
        [
          {
            body,
            ...(q.fifo && groupId !== undefined ? { groupId } : {}),
          },
        ],
        EVENTBRIDGE_SENDER,
      )
      if (result instanceof QueueError)
        return fail('SDK_CLIENT_ERROR', `${result.code}: ${result.message}`)
      return { outcome: 'delivered' }
    },
  }
}

const fail = (errorCode: string, errorMessage: string): InvocationResult => ({
  outcome: 'failed',
  retryable: false,
  errorCode,
  errorMessage,
})
