/**
 * @module
 * The event id of a schedule's tick: the same on every node and after every restart, so that
 * the store's deduplication (JetStream's message ids) drops a tick fired twice when schedule
 * leadership passes from one node to another mid-tick. Shaped as a version-5 UUID, as AWS's ids
 * are UUIDs.
 */
import { nameUuid } from './name-uuid.js'

/**
 * `owner` is the rule's or schedule's ARN and `since` the time its schedule was (re)set, which
 * tells a rule re-created under the same name from the one before it.
 */
export function tickEventId(owner: string, since: number, tick: number): string {
  return nameUuid(`${owner}\n${String(since)}\n${String(tick)}`)
}
