/**
 * @module
 * What the rest of Junction asks of the queues (the SQS API, rule targets, dead letters, Lambda
 * destinations and event source mappings): one interface, two engines. {@link Queues} keeps a
 * window of messages in memory over the single-process stores (memory, SQLite);
 * `store/nats/queues.ts` keeps them in JetStream, shared by every node.
 *
 * A queue is handed out as a {@link QueueRef} and handed back to the same service: an engine may
 * rely on getting its own kind of queue back.
 */
import type { Scope } from '../model.js'
import type { DeadLetter } from '../store/ports.js'
import type { QueueSettings } from './attributes.js'
import type { QueueError } from './errors.js'
import type { QueueRecord } from './model.js'
import type { ReceivedMessage, ReceiveRequest, SendEntry, SendResult } from './queues.js'

/** A queue as callers see it: its record (name, account, attributes, tags) and parsed settings. */
export type QueueRef = {
  readonly record: QueueRecord
  readonly arn: string
  readonly fifo: boolean
  readonly settings: QueueSettings
}

/**
 * The queue engine's surface. Lookups are synchronous (every engine knows every queue in
 * memory); anything that reads or changes messages or stored records is asynchronous.
 */
export interface QueueService<Q extends QueueRef = QueueRef> {
  find(scope: Scope, name: string): Q | undefined
  findByArn(arn: string): Q | undefined
  /** The caller's queues whose names start with `prefix`, by name. */
  list(scope: Scope, prefix?: string): Q[]
  /** Queues whose RedrivePolicy names this one as their dead-letter queue. */
  sourcesOf(q: Q): Q[]
  create(
    scope: Scope,
    name: string,
    attributes: Record<string, string>,
    tags: Record<string, string>,
  ): Promise<Q>
  delete(q: Q): Promise<void>
  setAttributes(q: Q, attributes: Record<string, string>): Promise<void>
  /** GetQueueAttributes: the named attributes (`All` for every one) as strings. */
  attributes(q: Q, names: string[]): Promise<Record<string, string>>
  addPermission(q: Q, label: string, accounts: string[], actions: string[]): Promise<void>
  removePermission(q: Q, label: string): Promise<void>
  tag(q: Q, tags: Record<string, string>): Promise<void>
  untag(q: Q, keys: string[]): Promise<void>
  purge(q: Q): Promise<void>
  send(
    q: Q,
    entries: SendEntry[],
    senderId: string,
    options?: { batch?: boolean },
  ): Promise<(SendResult | QueueError)[]>
  receive(
    q: Q,
    request: ReceiveRequest,
    abortSignal?: () => AbortSignal,
  ): Promise<ReceivedMessage[]>
  deleteMessages(q: Q, handles: string[]): Promise<(QueueError | undefined)[]>
  changeVisibility(
    q: Q,
    entries: { handle: string; timeout: number }[],
  ): Promise<(QueueError | undefined)[]>
  /**
   * Puts an EventBridge dead letter into its queue. False when there is no such standard queue
   * (the caller keeps the letter). Whether the delivery job ends here too: see
   * {@link QueueService.finishesJobs}.
   */
  deadLetter(letter: DeadLetter): Promise<boolean>
  /**
   * True when {@link QueueService.deadLetter} ends the letter's delivery job itself (in the same
   * commit as the message); false when the caller must finish it.
   */
  readonly finishesJobs: boolean
  /** Ends every long poll (with no messages) and stops the timers. */
  close(): void
}
