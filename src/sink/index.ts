/**
 * @module
 * Database sinks, put together for the composition root: the definitions (`/junction/sinks`),
 * the writers with their pools, and the target adapter that delivers to them.
 */
import type { TargetAdapter } from '../delivery/targets/adapter.js'
import { createDatabaseAdapter } from '../delivery/targets/database.js'
import type { ConfigStore } from '../store/ports.js'
import { openMysqlDialect } from './mysql.js'
import { openPostgresDialect } from './postgres.js'
import { Sinks } from './sinks.js'
import { openDialectFor, SinkWriters } from './writer.js'

export type SinkService = {
  sinks: Sinks
  adapter: TargetAdapter
  /** Closes every sink's pool (after the dispatcher has stopped). */
  close(): Promise<void>
}

export function createSinkService(config: ConfigStore): SinkService {
  const writers = new SinkWriters(
    openDialectFor({ postgres: openPostgresDialect, mysql: openMysqlDialect }),
  )
  const sinks = new Sinks(config, (arn) => {
    void writers.forget(arn).catch(() => undefined)
  })
  return {
    sinks,
    adapter: createDatabaseAdapter({ sink: (arn) => sinks.byArn(arn), writers }),
    close: () => writers.closeAll(),
  }
}
