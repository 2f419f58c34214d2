/**
 * @module
 * The port between the Lambda API (and the asynchronous invocations behind it) and whatever
 * runs function code: today child processes speaking the Lambda Runtime API
 * (`functions/runtime/`). One invoke is one request to one instance; the runner starts, reuses
 * and stops instances.
 */
import type { FunctionRecord } from './model.js'

export type InvokeRequest = {
  /** Lambda's request id (`x-amzn-RequestId`, `context.awsRequestId`). */
  requestId: string
  payload: Buffer
  /** Base64 `X-Amz-Client-Context`, passed to the runtime unchanged. */
  clientContext?: string
  /** `LogType: Tail`: return the last 4 KB of this invocation's log (as `logTail`, base64, ready for `X-Amz-Log-Result`). */
  tailLog: boolean
}

export type InvokeOutcome =
  /** The handler answered: `payload` is its result, as the runtime posted it. */
  | { kind: 'ok'; payload: Buffer; logTail?: string; durationMs: number }
  /**
   * The function failed (`X-Amz-Function-Error: Unhandled`): a thrown error, a timeout
   * (`Sandbox.Timedout`), a crash (`Runtime.ExitError`), an init failure
   * (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, …). `payload` is Lambda's error JSON.
   */
  | {
      kind: 'function-error'
      errorType: string
      payload: Buffer
      logTail?: string
      durationMs: number
    }
  /** No instance may start: the function's reserved concurrency or the server's limit is used up. */
  | {
      kind: 'throttled'
      reason:
        'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded'
    }

export type FunctionRunner = {
  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeOutcome>
  /**
   * The function's code or configuration changed (a new `revisionId`): instances of the old
   * revision finish their invocations and stop; new invocations start new instances.
   */
  updated(fn: FunctionRecord): void
  /** The function was deleted: its instances stop once their invocations finish. */
  removed(functionArn: string): void
  /** Log lines of a function (START/END/REPORT and the function's output), newest last. */
  logs(functionArn: string): FunctionLogs
  /** Stops every instance (after in-flight invocations, up to `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>
}

export type FunctionLogs = {
  /** Up to the last `limit` lines kept in memory. */
  recent(limit: number): string[]
  /** Every new line until the returned function is called. */
  follow(onLine: (line: string) => void): () => void
}
