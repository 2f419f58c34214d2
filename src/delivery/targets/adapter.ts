/**
 * @module
 * The port every target kind implements. Adding a kind (queues, say) is one file exporting a
 * {@link TargetAdapter}, registered in the composition root.
 */
import type { Rule, StoredEvent, Target } from '../../model.js'

export type Invocation = {
  event: StoredEvent
  /** The parsed envelope (for dynamic HTTP parameters and the like). */
  envelope: Record<string, unknown>
  rule: Rule
  target: Target
  /** The transformed input: what the target receives. */
  body: string
  /** 1 for the first attempt. */
  attempt: number
}

export type InvocationResult =
  | { outcome: 'delivered' }
  /** Not sent because of a rate limit: try again later without counting an attempt. */
  | { outcome: 'throttled'; retryAfterMs: number }
  | {
      outcome: 'failed'
      /** Retryable failures are retried within the retry policy; others go to the DLQ at once. */
      retryable: boolean
      /** DLQ ERROR_CODE, e.g. `SDK_CLIENT_ERROR`, `NO_RESOURCE`, `NO_PERMISSIONS`. */
      errorCode: string
      errorMessage: string
      /** The target asked for at least this long before a retry (HTTP `Retry-After`). */
      retryAfterMs?: number
    }

export type TargetAdapter = {
  /** For logs and metrics: `api-destination`, `event-bus`, … */
  readonly kind: string
  /** Whether this adapter delivers to targets with this ARN. */
  accepts(arn: string): boolean
  invoke(invocation: Invocation): Promise<InvocationResult>
}
