/**
 * @module
 * A change's event id: the same every time the change is read (after a crash, a reconnect or a
 * lease handover), so a change stored twice carries one id and deduplicating stores (JetStream's
 * message ids) drop the second. Shaped as a version-5 UUID, as `engine/tick-id.ts` builds ids.
 * The account and region are part of it: two sources of the same name in different accounts may
 * read databases at coinciding positions.
 */
import { createHash } from 'node:crypto'
import type { SourceDefinition } from './model.js'

/** `position` is the source's own (PostgreSQL: `commitLsn:seq`; MySQL: `gtid:seq`). */
export function changeId(
  def: Pick<SourceDefinition, 'account' | 'region' | 'name'>,
  position: string,
): string {
  const h = createHash('sha1')
    .update(`junction.cdc\n${def.account}\n${def.region}\n${def.name}\n${position}`)
    .digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}
