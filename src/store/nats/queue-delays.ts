/**
 * @module
 * Messages sent with a delay wait on their queue's delay subject, not on the queue's own, so a
 * receive never sees them early and a receive count counts receives only. Every node runs this
 * mover on one shared consumer (the work is split): a message not yet due is nak'd until it is
 * (JetStream keeps the timer), a due one is published to its queue's subject and then acked. A
 * crash between the two steps publishes it again later, which the message id makes harmless
 * within JetStream's duplicate window (and at-least-once allows beyond it).
 */
import type { Consumer, ConsumerMessages, JetStreamClient } from '@nats-io/jetstream'
import { decodeQueueMessage } from './queue-codec.js'
import { queueIdOf, readySubject } from './queue-streams.js'
import { publishDurably } from './publish.js'

export type DelayMoverDeps = {
  js: JetStreamClient
  consumer: Consumer
  now: () => number
  log: { warn(obj: object, msg: string): void }
}

export class DelayMover {
  private messages: ConsumerMessages | undefined
  private stopped = false

  constructor(private readonly deps: DelayMoverDeps) {}

  async start(): Promise<void> {
    this.messages = await this.deps.consumer.consume({ max_messages: 256 })
    void this.run(this.messages)
  }

  stop(): void {
    this.stopped = true
    void this.messages?.close()
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    const { js, now, log } = this.deps
    for await (const m of messages) {
      if (this.stopped) break
      try {
        const { meta } = decodeQueueMessage(m.data)
        const left = (meta.notBefore ?? 0) - now()
        if (left > 0) {
          m.nak(left)
          continue
        }
        const queueId = queueIdOf(m.subject)
        await publishDurably(js, readySubject(queueId), m.data, {
          msgID: `${queueId}/${meta.id}/ready`,
        })
        m.ack()
      } catch (e) {
        log.warn({ err: e }, 'could not move a delayed queue message; trying again in a second')
        m.nak(1000)
      }
    }
  }
}
