/**
 * @module
 * What the dispatcher needs from the jobs it holds in memory: a bounded window of pending jobs
 * that hands out the due ones. On one node the window pages jobs in from the store in due order
 * (`window.ts`); with several nodes sharing NATS JetStream it is fed by the jobs consumer they
 * share (`store/nats/job-window.ts`). The dispatcher runs whatever the window hands it and stores
 * each outcome through the `EventStore`; the window only decides which job runs when.
 *
 * Single-threaded: only the event loop calls a window.
 */
import type { Clock } from '../clock.js'
import type { PendingDelivery } from '../store/ports.js'

/** A job in the window, with its event. */
export type Item = PendingDelivery & {
  envelope?: Record<string, unknown> | undefined
  /**
   * The store holds this job under the key it has here. False once it is delayed in memory only
   * (throttled): it must then stay in the window, since a page would not find it where it is.
   */
  stored: boolean
  /** A store write for this job's outcome that has not succeeded yet, and what follows it. */
  unsaved?: { write: () => Promise<void>; then: () => void; failures: number } | undefined
}

export type JobWindow = {
  /** Jobs in memory (waiting, due and running); never more than `maxJobs`. */
  readonly size: number
  /** Starts taking jobs in (the backlog after a start); called again whenever room opens. */
  fill(): void
  /** Jobs just made durable by an append on this node (a window may take them another way). */
  offer(items: (PendingDelivery & { envelope?: Record<string, unknown> })[]): void
  /** The earliest job due at `now`, to run (it stays in the window until released). */
  take(now: number): Item | undefined
  /** When the earliest waiting job is due; the dispatcher sets its one timer for it. */
  nextDueAt(): number | undefined
  /** A job to run again later (`job.dueAt` moved) without a store write: throttled, or failed unexpectedly. */
  delay(item: Item): void
  /** A job whose reschedule (`EventStore.reschedule`) has been stored. */
  requeue(item: Item): void
  /** A job whose outcome is stored (delivered, dropped, dead-lettered): it leaves memory. */
  release(item: Item): void
  /** No more jobs are handed out; what is not running is left to the store. */
  stop(): void
}

/** What the dispatcher gives the window it builds. */
export type JobWindowDeps = {
  clock: Clock
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  /** Most jobs in memory at once (waiting, due and running). */
  maxJobs: number
  /** Jobs were admitted: some may be due. */
  onAdmit: () => void
}

/** Builds the dispatcher's window (by default a `DeliveryWindow` paging in with `EventStore.due`). */
export type JobWindowFactory = (deps: JobWindowDeps) => JobWindow
