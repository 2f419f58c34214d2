/**
 * @module
 * The event side of functions, made once by the composition root: the asynchronous-invocation
 * queue (through the dispatcher), the Lambda target adapter, and the event source mappings'
 * pollers.
 */
import type { Clock } from '../clock.js'
import { createLambdaAdapter } from '../delivery/targets/lambda.js'
import type { TargetAdapter } from '../delivery/targets/adapter.js'
import type { EntryResult, EventEntry } from '../engine/ingest.js'
import type { Rule, Scope, StoredEvent, Target } from '../model.js'
import type { QueueService } from '../queue/service.js'
import { AsyncInvocations } from './async-invocations.js'
import type { AsyncInvoker, FunctionDirectory } from './directory.js'
import { EventSourcePoller } from './event-source-poller.js'
import type { FunctionRunner } from './runner.js'
import { randomUUID } from 'node:crypto'

export type FunctionEventsDeps = {
  directory: FunctionDirectory
  runner: FunctionRunner
  queues: QueueService
  clock: Clock
  /** Ingest.enqueueInvocation (late: ingest is made after the dispatcher). */
  enqueue: (event: StoredEvent, ownerArn: string, targetId: string) => Promise<void>
  /** Ingest.putEvents (late, as `enqueue`). */
  putEvents: (scope: Scope, entries: EventEntry[]) => Promise<EntryResult[]>
  log: {
    warn(obj: object, msg: string): void
    error(obj: object, msg: string): void
  }
}

export type FunctionEvents = {
  asyncInvoker: AsyncInvoker
  adapter: TargetAdapter
  /** For the dispatcher's `route` hook: a function's queued invocation, else undefined. */
  route(ownerArn: string, targetId: string): { rule: Rule; target: Target } | undefined
  /** Starts the event source mappings' pollers. */
  start(): void
  /** Stops them (batches in flight finish, up to `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>
}

export function createFunctionEvents(deps: FunctionEventsDeps): FunctionEvents {
  const invocations: AsyncInvocations = new AsyncInvocations({
    directory: deps.directory,
    runner: deps.runner,
    clock: deps.clock,
    enqueue: deps.enqueue,
    log: deps.log,
    destinations: {
      queues: deps.queues,
      putEvents: deps.putEvents,
      log: deps.log,
      async invokeFunction(arn, payload) {
        const fn = deps.directory.byArn(arn)
        if (!fn) return false
        await invocations.enqueue(fn, payload, randomUUID())
        return true
      },
    },
  })
  const poller = new EventSourcePoller({
    directory: deps.directory,
    runner: deps.runner,
    queues: deps.queues,
    clock: deps.clock,
    log: deps.log,
  })
  return {
    asyncInvoker: invocations,
    adapter: createLambdaAdapter({ directory: deps.directory, invocations }),
    route: (ownerArn, targetId) => invocations.route(ownerArn, targetId),
    start: () => {
      poller.start()
    },
    stop: (timeoutMs) => poller.stop(timeoutMs),
  }
}
