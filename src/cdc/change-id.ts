/**
 * @module
 * A change's event id: the same every time the change is read (after a crash, a reconnect or a
 * lease handover), so a change stored twice carries one id and deduplicating stores (JetStream's
 * message ids) drop the second. Shaped as a version-5 UUID (`engine/name-uuid.ts`), as tick ids are.
 * The account and region are part of it: two sources of the same name in different accounts may
 * read databases at coinciding positions.
 */
import { nameUuid } from '../engine/name-uuid.js'
import type { SourceDefinition } from './model.js'

/** `position` is the source's own (PostgreSQL: `commitLsn:seq`; MySQL: `gtid:seq`). */
export function changeId(
  def: Pick<SourceDefinition, 'account' | 'region' | 'name'>,
  position: string,
): string {
  return nameUuid(`junction.cdc\n${def.account}\n${def.region}\n${def.name}\n${position}`)
}
