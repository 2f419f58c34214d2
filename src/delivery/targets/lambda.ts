/**
 * @module
 * Lambda function targets. Two kinds of job reach this adapter:
 * - a rule's (or an EventBridge Scheduler schedule's) target: EventBridge hands the event to
 *   Lambda's asynchronous queue, as AWS does, and is done once Lambda accepted it. A rule needs
 *   the function's resource policy to let `events.amazonaws.com` invoke it for that rule (even in
 *   the same account); a schedule invokes with its execution role instead;
 * - a queued asynchronous invocation (owned by the function itself): run now, with Lambda's
 *   retries and destinations (`functions/async-invocations.ts`).
 */
import { randomUUID } from 'node:crypto'
import type { AsyncInvocations } from '../../functions/async-invocations.js'
import { isFunctionArn, LAMBDA_ASYNC_TARGET_ID } from '../../functions/async-invocations.js'
import type { FunctionDirectory } from '../../functions/directory.js'
import type { InvocationResult, TargetAdapter } from './adapter.js'

export const EVENTBRIDGE_PRINCIPAL = 'events.amazonaws.com'

export function createLambdaAdapter(deps: {
  directory: FunctionDirectory
  invocations: AsyncInvocations
}): TargetAdapter {
  return {
    kind: 'lambda',
    accepts: isFunctionArn,
    async invoke({ event, rule, target, body, attempt }): Promise<InvocationResult> {
      const fn = deps.directory.byArn(target.arn)
      if (target.id === LAMBDA_ASYNC_TARGET_ID && rule.arn === fn?.arn)
        return deps.invocations.run(fn, event, attempt)
      if (!fn)
        return fail(
          'NO_RESOURCE',
          `Function not found: ${target.arn} (Service: Lambda, Status Code: 404, ResourceNotFoundException)`,
        )
      // A schedule invokes with its role; a rule needs the function's own permission.
      const fromSchedule = rule.arn.startsWith('arn:aws:scheduler:')
      if (
        !fromSchedule &&
        !deps.directory.allowsInvoke(fn, {
          principal: EVENTBRIDGE_PRINCIPAL,
          sourceArn: rule.arn,
          sourceAccount: rule.account,
        })
      )
        return fail(
          'NO_PERMISSIONS',
          `User: ${EVENTBRIDGE_PRINCIPAL} is not authorized to perform: lambda:InvokeFunction on resource: ${fn.arn} because no resource-based policy allows the lambda:InvokeFunction action (AccessDeniedException)`,
        )
      try {
        await deps.invocations.enqueue(fn, body, randomUUID())
      } catch (e) {
        return {
          outcome: 'failed',
          retryable: true,
          errorCode: 'SDK_CLIENT_ERROR',
          errorMessage: `The invocation could not be queued: ${(e as Error).message}`,
        }
      }
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
