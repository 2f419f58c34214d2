/**
 * @module
 * Runs delivery jobs: transforms the input, calls the target's adapter, then finishes the job,
 * schedules a retry, or dead-letters it. Every job is in the store, and a job leaves the store
 * only once its outcome is known, so after a crash the restart delivers it again (at least once).
 * Memory holds a bounded window of the jobs due next (see `window.ts`), paged in from the store.
 *
 * Single-threaded: everything runs on the event loop. One timer, for the earliest waiting job,
 * wakes it; at most `maxInFlight` invocations run at once.
 */
import type { Clock } from '../clock.js'
import type { Registry } from '../engine/registry.js'
import type { Rule, StoredEvent, Target } from '../model.js'
import type { Metrics } from '../observe/metrics.js'
import type { DeadLetter, EventStore, PendingDelivery } from '../store/ports.js'
import { renderInput } from '../transform/index.js'
import { envelopeTime } from '../engine/envelope.js'
import { decideRetry } from './retry.js'
import type { InvocationResult, TargetAdapter } from './targets/adapter.js'
import type { Item, JobWindow, JobWindowFactory } from './job-window.js'
import { DeliveryWindow } from './window.js'

export type DispatcherLog = {
  error(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

export type DispatcherDeps = {
  registry: Registry
  store: EventStore
  adapters: TargetAdapter[]
  clock: Clock
  metrics: Metrics
  log: DispatcherLog
  /**
   * Stores a dead letter and finishes its job in one step: into its queue (`queued`), or kept
   * in the store while there is no such queue (`kept`). The store's own record when absent.
   */
  deadLetter?: (letter: DeadLetter) => Promise<'queued' | 'kept'>
  /** Most invocations in flight at once. */
  maxInFlight?: number
  /**
   * Most jobs held in memory at once (waiting, due and running); the rest wait in the store.
   * @default 10000
   */
  maxWindow?: number
  random?: () => number
  /**
   * Builds the window of jobs held in memory. By default a {@link DeliveryWindow} paging jobs in
   * from `store` in due order (one node); several nodes sharing NATS JetStream pass the window of
   * the jobs consumer they share.
   */
  window?: JobWindowFactory
  /**
   * Jobs whose owner is not a rule (a Scheduler schedule): the rule and target to deliver with,
   * or undefined to look the job's rule up in the registry.
   */
  route?: (
    ownerArn: string,
    targetId: string,
  ) =>
    { rule: Rule; target: Target; render?: (text: string, attempt: number) => string } | undefined
}

export const DEFAULT_DELIVERY_WINDOW = 10_000

export class Dispatcher {
  private readonly window: JobWindow
  /** Invocations running: the slots `maxInFlight` bounds. */
  private inFlight = 0
  /** Jobs started and not settled: running, or their outcome's write not committed yet. */
  private busy = 0
  private pumpScheduled = false
  private timer: { at: number; cancel: () => void } | undefined
  private stopping = false
  private idle: (() => void)[] = []
  private readonly maxInFlight: number
  private readonly random: () => number

  constructor(private readonly deps: DispatcherDeps) {
    this.maxInFlight = deps.maxInFlight ?? 256
    this.random = deps.random ?? Math.random
    const windowDeps = {
      clock: deps.clock,
      log: deps.log,
      maxJobs: deps.maxWindow ?? DEFAULT_DELIVERY_WINDOW,
      onAdmit: () => {
        this.pumpSoon()
      },
    }
    this.window = deps.window
      ? deps.window(windowDeps)
      : new DeliveryWindow({ ...windowDeps, store: deps.store })
  }

  /** Starts paging in the jobs pending in the store (after a restart: the backlog). */
  start(): void {
    this.window.fill()
  }

  /**
   * Jobs now durable; `envelope`, when the caller has it parsed already, saves parsing the
   * event again. Jobs the window has no room for stay in the store until paged in.
   */
  submit(items: (PendingDelivery & { envelope?: Record<string, unknown> })[]): void {
    if (this.stopping) return
    this.window.offer(items)
    this.pumpSoon()
  }

  /** Invocations running now. */
  get running(): number {
    return this.inFlight
  }

  /** Jobs held in memory now (never more than `maxWindow`). */
  get inMemory(): number {
    return this.window.size
  }

  /**
   * Stops starting invocations; waits up to `timeoutMs` for those running. Anything unfinished
   * stays in the store and is delivered after the next start.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true
    this.window.stop()
    this.timer?.cancel()
    this.timer = undefined
    if (this.busy === 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.idle.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Starts due jobs on the next turn: the PutEvents answer that produced them goes out first. */
  private pumpSoon(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump(): void {
    if (this.stopping) return
    const now = this.deps.clock.now()
    while (this.inFlight < this.maxInFlight) {
      const item = this.window.take(now)
      if (!item) break
      this.inFlight++
      this.busy++
      // The slot is freed as soon as the target has answered: the outcome's write (batched with
      // others, up to 20 ms) must not hold an invocation slot, or it caps the delivery rate.
      let slotHeld = true
      const freeSlot = () => {
        if (!slotHeld) return
        slotHeld = false
        this.inFlight--
        this.pumpSoon()
      }
      void this.run(item, freeSlot)
        .catch((e: unknown) => {
          if (item.unsaved) {
            // The outcome is known but could not be stored: retry the write, not the target.
            this.retrySave(item, e)
            return
          }
          this.deps.log.warn(
            { err: e, job: item.job.id },
            'delivery failed unexpectedly; will retry',
          )
          item.job.dueAt = this.deps.clock.now() + 1000
          this.window.delay(item)
        })
        .finally(() => {
          freeSlot()
          this.busy--
          if (this.busy === 0) for (const f of this.idle.splice(0)) f()
        })
    }
    this.arm(now)
  }

  /** One timer, for the earliest waiting job; none while the invocation slots are all taken. */
  private arm(now: number): void {
    const at = this.window.nextDueAt()
    if (at === undefined || at <= now) return // nothing waits, or the next finish pumps
    if (this.timer && this.timer.at <= at) return
    this.timer?.cancel()
    const timer = {
      at,
      cancel: this.deps.clock.setTimer(at - now, () => {
        if (this.timer === timer) this.timer = undefined
        this.pump()
      }),
    }
    this.timer = timer
  }

  /**
   * Stores a job's outcome; `then` runs once it is stored (by default the job leaves memory). A
   * failure is retried by {@link retrySave}.
   */
  private async save(item: Item, write: () => Promise<void>, then?: () => void): Promise<void> {
    const next =
      then ??
      (() => {
        this.window.release(item)
      })
    item.unsaved = { write, then: next, failures: 0 }
    await write()
    item.unsaved = undefined
    next()
  }

  private retrySave(item: Item, error: unknown): void {
    const unsaved = item.unsaved!
    unsaved.failures++
    const delay = Math.min(60_000, 500 * 2 ** unsaved.failures)
    this.deps.log.error(
      { err: error, job: item.job.id, failures: unsaved.failures, retryInMs: delay },
      'could not store a delivery outcome; retrying the write',
    )
    if (this.stopping) return // the job is still pending in the store: the next start delivers it
    this.deps.clock.setTimer(delay, () => {
      unsaved.write().then(
        () => {
          item.unsaved = undefined
          unsaved.then()
        },
        (e: unknown) => {
          this.retrySave(item, e)
        },
      )
    })
  }

  private async run(item: Item, freeSlot: () => void): Promise<void> {
    const { deps } = this
    const { job } = item
    const route = deps.route?.(job.ruleArn, job.targetId)
    const rule = route ? route.rule : deps.registry.rule(job.ruleArn)
    const target = route ? route.target : rule && deps.registry.target(rule.arn, job.targetId)
    if (!rule || !target) {
      // The rule or target was removed after the event was routed: nothing to deliver to.
      deps.log.debug({ job: job.id }, 'target gone; delivery dropped')
      await this.save(item, () => deps.store.finish([job.id]))
      return
    }
    const labels = { EventBusName: rule.busName, RuleName: rule.name }
    const attempt = job.attempts + 1
    // A schedule's text is finished per attempt (its attempt number and execution id).
    const event = route?.render
      ? { ...item.event, text: route.render(item.event.text, attempt) }
      : item.event
    let parsed: Record<string, unknown> | undefined = route?.render ? undefined : item.envelope
    // Parsed only if something reads it (dynamic HTTP parameters, a bus target).
    const envelope = () => {
      parsed ??= JSON.parse(event.text) as Record<string, unknown>
      if (!route?.render) item.envelope = parsed
      return parsed
    }
    const body = renderInput(
      target.input,
      {
        text: event.text,
        get object() {
          return envelope()
        },
      },
      { ruleArn: rule.arn, ruleName: rule.name, ingestionTime: envelopeTime(event.ingestedAt) },
    )
    if (body === null) {
      // EventBridge silently delivers nothing when a template does not produce valid JSON.
      deps.metrics.failedInvocations.inc(labels)
      await this.save(item, () => deps.store.finish([job.id]))
      return
    }
    const adapter = deps.adapters.find((a) => a.accepts(target.arn))
    let result: InvocationResult
    if (!adapter) {
      result = {
        outcome: 'failed',
        retryable: false,
        errorCode: 'NO_RESOURCE',
        errorMessage: `Junction cannot deliver to targets of this kind yet: ${target.arn}`,
      }
    } else {
      if (attempt === 1)
        deps.metrics.ingestionToInvocationStartLatency.observe(
          labels,
          deps.clock.now() - event.ingestedAt,
        )
      deps.metrics.invocationAttempts.inc(labels)
      if (attempt > 1) deps.metrics.retryInvocationAttempts.inc(labels)
      result = await adapter.invoke({
        event,
        get envelope() {
          return envelope()
        },
        rule,
        target,
        body,
        attempt,
      })
    }
    freeSlot()
    await this.settle(item, event, rule, target, attempt, result)
  }

  private async settle(
    item: Item,
    event: StoredEvent,
    rule: Rule,
    target: Target,
    attempt: number,
    result: InvocationResult,
  ): Promise<void> {
    const { deps } = this
    const { job } = item
    const labels = { EventBusName: rule.busName, RuleName: rule.name }
    switch (result.outcome) {
      case 'delivered':
        deps.metrics.successfulInvocationAttempts.inc(labels)
        deps.metrics.invocations.inc(labels)
        await this.save(item, () => deps.store.finish([job.id]))
        return
      case 'throttled':
        deps.metrics.throttledRules.inc(labels)
        job.dueAt = deps.clock.now() + result.retryAfterMs
        this.window.delay(item)
        return
      case 'failed': {
        const now = deps.clock.now()
        const decision = result.retryable
          ? decideRetry(
              target.retryPolicy,
              attempt,
              event.ingestedAt,
              now,
              this.random,
              result.retryAfterMs,
            )
          : undefined
        if (decision?.retry) {
          job.attempts = attempt
          job.dueAt = decision.dueAt
          // Only once the new due time is stored may the job leave memory for the store.
          await this.save(
            item,
            () => deps.store.reschedule(job),
            () => {
              this.window.requeue(item)
              this.pumpSoon()
            },
          )
          return
        }
        deps.metrics.invocations.inc(labels)
        deps.metrics.failedInvocations.inc(labels)
        deps.log.warn(
          {
            job: job.id,
            rule: rule.arn,
            target: target.id,
            error: result.errorCode,
            message: result.errorMessage,
          },
          'delivery failed for good',
        )
        if (target.deadLetterArn === undefined) {
          await this.save(item, () => deps.store.finish([job.id]))
          return
        }
        const letter: DeadLetter = {
          job: { ...job, attempts: attempt },
          event,
          dlqArn: target.deadLetterArn,
          ruleArn: rule.arn,
          targetArn: target.arn,
          errorCode: result.errorCode,
          errorMessage: result.errorMessage,
          ...(decision ? { exhaustedRetryCondition: decision.exhausted } : {}),
          retryAttempts: attempt - 1,
          at: now,
        }
        const deadLetter =
          deps.deadLetter ??
          ((l: DeadLetter) => deps.store.deadLetter(l).then(() => 'kept' as const))
        await this.save(item, async () => {
          const where = await deadLetter(letter)
          if (where === 'queued') deps.metrics.invocationsSentToDlq.inc(labels)
          else deps.metrics.invocationsFailedToBeSentToDlq.inc(labels)
        })
      }
    }
  }
}
