/**
 * @module
 * Which module opens a source of each kind, and what removing one cleans up in the database.
 */
import type { OpenSource, SourceDefinition, SourceKind } from './model.js'
import { NeedsOperator } from './failure.js'
import { dropPostgresSlot, openPostgresSource } from './postgres/source.js'

const mysqlUnavailable: OpenSource = () => {
  throw new NeedsOperator('MySQL/MariaDB sources are not available in this build of Junction.')
}

export const openers: Record<SourceKind, OpenSource> = {
  postgres: openPostgresSource,
  mysql: mysqlUnavailable,
}

/** `junction sources remove --drop-slot`: frees what the source holds in its database. */
export const slotDroppers: Partial<Record<SourceKind, (def: SourceDefinition) => Promise<void>>> = {
  postgres: dropPostgresSlot,
}
