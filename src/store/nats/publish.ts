/**
 * @module
 * A JetStream publish that rides out a stream's leader change. On a cluster that loses a server
 * (see test/contract/nats-cluster.test.ts) nats-server 2.9 answers for a few seconds with "no
 * responders" (reported as JetStreamNotEnabled) while the stream elects a new leader, and
 * publishes in flight to the dead leader time out. Neither stored the message, and the message id
 * makes a repeat harmless in any case, so the publish is repeated with the same id until
 * `patienceMs` has passed: the caller (a PutEvents waiting for its jobs) sees a slower answer,
 * not an error.
 */
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream'

/** Longer than the 4 to 9 s an election took in those tests. */
export const PUBLISH_PATIENCE_MS = 15_000

export async function publishDurably(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array | string,
  options: Partial<JetStreamPublishOptions> & { msgID: string },
  patienceMs = PUBLISH_PATIENCE_MS,
): Promise<PubAck> {
  const giveUpAt = Date.now() + patienceMs
  let wait = 50
  for (;;) {
    try {
      return await js.publish(subject, data, options)
    } catch (e) {
      if (!isTransient(e) || Date.now() + wait > giveUpAt) throw e
      await new Promise((r) => setTimeout(r, wait))
      wait = Math.min(wait * 2, 500)
    }
  }
}

/** A publish that failed for want of a stream leader or an answer, not because it was refused. */
export function isTransient(e: unknown): boolean {
  const texts: string[] = []
  for (let c: unknown = e; c instanceof Error && texts.length < 4; c = c.cause)
    texts.push(`${c.name} ${c.message}`)
  return texts.some((t) =>
    /TimeoutError|timeout|no responders|jetstream is not enabled|NoResponders/i.test(t),
  )
}
