/**
 * @module
 * Which module opens a source of each kind, and what removing one cleans up in the database.
 */
import type { OpenSource, SourceDefinition, SourceKind } from './model.js'
import { openMysqlSource } from './mysql/source.js'
import { dropPostgresSlot, openPostgresSource } from './postgres/source.js'

export const openers: Record<SourceKind, OpenSource> = {
  postgres: openPostgresSource,
  mysql: openMysqlSource,
}

/** `junction sources remove --drop-slot`: frees what the source holds in its database. */
export const slotDroppers: Partial<Record<SourceKind, (def: SourceDefinition) => Promise<void>>> = {
  postgres: dropPostgresSlot,
}
