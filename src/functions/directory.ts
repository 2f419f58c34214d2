/**
 * @module
 * What the event side (rule targets, schedules, queue pollers, asynchronous invocations) needs
 * from the functions the Lambda API keeps, and how it hands an asynchronous invocation over.
 */
import type { EventSourceMapping, FunctionRecord } from './model.js'

/** Who asks to invoke a function, as the resource policy's conditions see it. */
export type InvokePrincipal = {
  /** A service (`events.amazonaws.com`, `scheduler.amazonaws.com`) or an account id. */
  principal: string
  /** `AWS:SourceArn`: the rule or schedule that invokes. */
  sourceArn?: string
  /** `AWS:SourceAccount`. */
  sourceAccount?: string
}

export type FunctionDirectory = {
  /** A function by ARN; `:$LATEST` qualified ARNs too. Undefined when there is none. */
  byArn(arn: string): FunctionRecord | undefined
  /** Whether the function's resource policy (AddPermission) lets `who` call lambda:InvokeFunction. */
  allowsInvoke(fn: FunctionRecord, who: InvokePrincipal): boolean
  /** Every event source mapping, enabled or not. */
  mappings(): EventSourceMapping[]
  /** Called after every change to the mappings (and not for other changes). */
  onMappingsChanged(listener: () => void): void
}

/**
 * Asynchronous invocations (`InvocationType: Event`, rule and schedule targets): accepted into a
 * durable queue, then run with Lambda's retries, event age, destinations and dead-letter queue.
 * `enqueue` resolves once the invocation is committed.
 */
export type AsyncInvoker = {
  enqueue(fn: FunctionRecord, payload: string, requestId: string): Promise<void>
}
