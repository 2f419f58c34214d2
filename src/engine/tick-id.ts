/**
 * @module
 * The event id of a schedule's tick: the same on every node and after every restart, so that
 * the store's deduplication (JetStream's message ids) drops a tick fired twice when schedule
 * leadership passes from one node to another mid-tick. Shaped as a version-5 UUID, as AWS's ids
 * are UUIDs.
 */
import { createHash } from 'node:crypto'

/**
 * `owner` is the rule's or schedule's ARN and `since` the time its schedule was (re)set, which
 * tells a rule re-created under the same name from the one before it.
 */
export function tickEventId(owner: string, since: number, tick: number): string {
  const h = createHash('sha1')
    .update(`${owner}\n${String(since)}\n${String(tick)}`)
    .digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}
