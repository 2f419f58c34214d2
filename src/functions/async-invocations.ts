/**
 * @module
 * Asynchronous invocations (`InvocationType: Event`, rule and schedule targets): each one is a
 * stored event (its text is the payload the handler receives, its id the request id) and one
 * delivery job owned by the function, so the dispatcher's durable queue, paging window and
 * timers serve them unchanged. The dispatcher's `route` hook stands the function in for a rule
 * and target ({@link asyncRoute}); the Lambda adapter runs the job ({@link AsyncInvocations.run}).
 *
 * Lambda's own behaviour (invocation-async-error-handling):
 * - a function error is retried `MaximumRetryAttempts` times (default 2), the first retry after
 *   one minute and the second after two;
 * - a throttle is not a retry: the event is requeued with a backoff from 1 s to 5 minutes for as
 *   long as its age allows (`MaximumEventAgeInSeconds`, default 21,600);
 * - once done, the record goes to the OnSuccess / OnFailure destination, or a failed event to the
 *   function's dead-letter queue when there is no OnFailure destination.
 * The limits are decided here, before the dispatcher's own retry policy sees the failure, so
 * the record names the right condition; the synthetic target's policy agrees with them.
 */
import type { Clock } from '../clock.js'
import type { Rule, StoredEvent, Target } from '../model.js'
import type { InvocationResult } from '../delivery/targets/adapter.js'
import type { AsyncInvoker, FunctionDirectory } from './directory.js'
import type { FunctionRecord } from './model.js'
import type { FunctionRunner, InvokeOutcome } from './runner.js'
import {
  invocationRecord,
  sendDeadLetter,
  sendRecord,
  type DestinationDeps,
  type InvocationCondition,
} from './destinations.js'

/** The delivery jobs' target id for an asynchronous invocation. */
export const LAMBDA_ASYNC_TARGET_ID = 'lambda-async'

export const DEFAULT_MAX_RETRY_ATTEMPTS = 2
export const DEFAULT_MAX_EVENT_AGE_SECONDS = 21_600
/** Lambda's delays before the first and the second retry of a function error. */
export const RETRY_DELAYS_MS = [60_000, 120_000] as const
const THROTTLE_FIRST_MS = 1_000
const THROTTLE_MAX_MS = 300_000

export const isFunctionArn = (arn: string) =>
  /^arn:aws[^:]*:lambda:[^:]*:\d{12}:function:/.test(arn)

export type AsyncInvocationsDeps = {
  directory: FunctionDirectory
  runner: FunctionRunner
  clock: Clock
  /** Commits the event and its job (Ingest.enqueueInvocation). */
  enqueue: (event: StoredEvent, ownerArn: string, targetId: string) => Promise<void>
  destinations: DestinationDeps
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

const limitsOf = (fn: FunctionRecord) => ({
  maxRetries: fn.eventInvokeConfig?.maximumRetryAttempts ?? DEFAULT_MAX_RETRY_ATTEMPTS,
  maxAgeMs:
    (fn.eventInvokeConfig?.maximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS) * 1000,
})

/** The rule and target the dispatcher delivers a function's asynchronous invocation with. */
export function asyncRoute(fn: FunctionRecord): { rule: Rule; target: Target } {
  const { maxRetries, maxAgeMs } = limitsOf(fn)
  return {
    rule: {
      name: fn.name,
      arn: fn.arn,
      busName: 'lambda',
      account: fn.account,
      region: fn.region,
      state: 'ENABLED',
      createdBy: fn.account,
    },
    target: {
      id: LAMBDA_ASYNC_TARGET_ID,
      arn: fn.arn,
      input: { kind: 'event' },
      retryPolicy: { maximumRetryAttempts: maxRetries, maximumEventAgeSeconds: maxAgeMs / 1000 },
      spec: {},
    },
  }
}

export class AsyncInvocations implements AsyncInvoker {
  constructor(private readonly deps: AsyncInvocationsDeps) {}

  async enqueue(fn: FunctionRecord, payload: string, requestId: string): Promise<void> {
    const event: StoredEvent = {
      id: requestId,
      busArn: fn.arn,
      text: payload,
      ingestedAt: this.deps.clock.now(),
      hops: 0,
    }
    await this.deps.enqueue(event, fn.arn, LAMBDA_ASYNC_TARGET_ID)
  }

  /** The dispatcher's `route` answer for a function's job; undefined for any other job. */
  route(ownerArn: string, targetId: string): { rule: Rule; target: Target } | undefined {
    if (targetId !== LAMBDA_ASYNC_TARGET_ID || !isFunctionArn(ownerArn)) return undefined
    const fn = this.deps.directory.byArn(ownerArn)
    // A deleted function's queued invocations are dropped (the dispatcher finishes the job).
    return fn && asyncRoute(fn)
  }

  /** One attempt of a queued invocation; `attempt` is 1 for the first. */
  async run(fn: FunctionRecord, event: StoredEvent, attempt: number): Promise<InvocationResult> {
    const { deps } = this
    const { maxRetries, maxAgeMs } = limitsOf(fn)
    const age = deps.clock.now() - event.ingestedAt
    if (age > maxAgeMs)
      return this.finish(fn, event, attempt - 1, 'EventAgeExceeded', { statusCode: 429 })
    let outcome: InvokeOutcome
    try {
      outcome = await deps.runner.invoke(fn, {
        requestId: event.id,
        payload: Buffer.from(event.text, 'utf8'),
        tailLog: false,
      })
    } catch (e) {
      // The runner could not run it at all: as a throttle, requeued until the event is too old.
      deps.log.warn({ err: e, function: fn.arn }, 'the runner could not invoke; requeued')
      outcome = { kind: 'throttled', reason: 'ConcurrentInvocationLimitExceeded' }
    }
    const now = deps.clock.now()
    if (outcome.kind === 'ok') {
      await this.finish(fn, event, attempt, 'Success', {
        statusCode: 200,
        responsePayload: outcome.payload,
      })
      return { outcome: 'delivered' }
    }
    if (outcome.kind === 'throttled') {
      const wait = Math.min(
        THROTTLE_MAX_MS,
        Math.max(THROTTLE_FIRST_MS, (now - event.ingestedAt) / 2),
      )
      if (now + wait - event.ingestedAt > maxAgeMs)
        return this.finish(fn, event, attempt - 1, 'EventAgeExceeded', {
          statusCode: 429,
          errorMessage: outcome.reason,
        })
      return { outcome: 'throttled', retryAfterMs: wait }
    }
    const failure = {
      statusCode: 200,
      functionError: 'Unhandled',
      responsePayload: outcome.payload,
      errorMessage: errorMessageOf(outcome.payload, outcome.errorType),
    }
    if (attempt > maxRetries) return this.finish(fn, event, attempt, 'RetriesExhausted', failure)
    const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1]!
    if (now + delay - event.ingestedAt > maxAgeMs)
      return this.finish(fn, event, attempt, 'EventAgeExceeded', failure)
    return {
      outcome: 'failed',
      retryable: true,
      errorCode: outcome.errorType,
      errorMessage: failure.errorMessage,
      retryAfterMs: delay,
    }
  }

  /** Sends the outcome where the function's configuration says; a failure ends the job. */
  private async finish(
    fn: FunctionRecord,
    event: StoredEvent,
    invokeCount: number,
    condition: InvocationCondition,
    response: {
      statusCode: number
      functionError?: string
      responsePayload?: Buffer
      errorMessage?: string
    },
  ): Promise<InvocationResult> {
    const { deps } = this
    const now = deps.clock.now()
    const config = fn.eventInvokeConfig
    const destination = condition === 'Success' ? config?.onSuccess : config?.onFailure
    try {
      if (destination !== undefined) {
        const record = invocationRecord({
          fn,
          requestId: event.id,
          condition,
          invokeCount,
          requestPayload: event.text,
          statusCode: response.statusCode,
          ...(response.functionError === undefined
            ? {}
            : { functionError: response.functionError }),
          ...(response.responsePayload === undefined
            ? {}
            : { responsePayload: response.responsePayload }),
          now,
        })
        if (!(await sendRecord(deps.destinations, destination, record, fn, now)))
          deps.log.warn(
            { function: fn.arn, destination },
            'destination unavailable; record dropped',
          )
      } else if (condition !== 'Success' && fn.deadLetterArn !== undefined) {
        const sent = await sendDeadLetter(
          deps.destinations,
          fn.deadLetterArn,
          event.text,
          event.id,
          response.statusCode,
          response.errorMessage ?? condition,
        )
        if (!sent)
          deps.log.warn(
            { function: fn.arn, dlq: fn.deadLetterArn },
            'dead-letter queue unavailable',
          )
      }
    } catch (e) {
      deps.log.error({ err: e, function: fn.arn }, 'could not send the invocation record')
    }
    if (condition === 'Success') return { outcome: 'delivered' }
    return {
      outcome: 'failed',
      retryable: false,
      errorCode: condition,
      errorMessage: response.errorMessage ?? condition,
    }
  }
}

/** Lambda's error JSON's `errorMessage`, else its type. */
function errorMessageOf(payload: Buffer, errorType: string): string {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { errorMessage?: unknown }
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage
  } catch {
    // not JSON: the type says enough
  }
  return errorType
}
