/**
 * @module
 * Change capture: the contract between a database source (PostgreSQL over logical replication,
 * MySQL/MariaDB over the binlog) and the bus. A source turns committed transactions into
 * {@link Change}s and hands each batch to a {@link CaptureSink}, which routes the events and
 * commits them with the source's checkpoint in one store transaction; the source acknowledges
 * to the database only the position that commit returned (never more).
 *
 * The event shape (one event per row change, `source = junction.cdc.<name>`,
 * `detail-type = <schema>.<table>`) is written down in docs/cdc.md.
 */
import type { Logger } from 'pino'

/** Debezium's operation codes: create, update, delete, snapshot read, truncate. */
export type ChangeOp = 'c' | 'u' | 'd' | 'r' | 't'

export type SourceKind = 'postgres' | 'mysql'

/** What a source does with a change whose event would exceed the bus's event size limit. */
export type OversizePolicy =
  /** Leave out `before`, then fail the source if the event is still too large. */
  | 'drop-before'
  /** Leave out `before` and `after` (the key stays) and list the columns in `truncated`. */
  | 'key-only'
  /** Stop the source with an error naming the row (nothing is skipped silently). */
  | 'fail'

/** A source as stored with the configuration (kind `cdc-source`, keyed by account/region/name). */
export type SourceDefinition = {
  name: string
  account: string
  region: string
  kind: SourceKind
  /** Connection URL, credentials included; answers show it with the password masked. */
  url: string
  /** Name of the bus in the same account and region the events go onto. */
  busName: string
  /** PostgreSQL: the publication to stream. */
  publication?: string
  /** PostgreSQL: the replication slot (default `junction_<name>`, lowercased). */
  slot?: string
  /** MySQL: the server id the source registers with as a replica. */
  serverId?: number
  /** Read the published tables first (`op: r`), then stream from the snapshot's position. */
  snapshot: boolean
  /** `detail-type = <schema>.<table>.<op>` instead of `<schema>.<table>`. */
  detailTypeWithOp: boolean
  oversize: OversizePolicy
  /**
   * Capture the write-back target's own writes too (they are marked: MariaDB's
   * `skip_replication`, PostgreSQL's `junction` replication origin). Default: left out, so a
   * source and a write-back target on one database do not loop.
   */
  captureOwnWrites?: boolean
  createdAt: number
}

/** Where a change comes from in the database's log (the event's `detail.source`). */
export type ChangePosition = {
  connector: 'postgresql' | 'mysql'
  name: string
  db: string
  schema: string
  table: string
  /** PostgreSQL: the change's own record and its transaction's commit, as normalised `X/X`. */
  lsn?: string
  commitLsn?: string
  txId?: number
  /** MySQL/MariaDB: the transaction's GTID and binlog coordinates. */
  gtid?: string
  binlog?: { file: string; pos: number }
  /** Position of the change in its transaction (0-based). */
  seq: number
  /** Commit time, ms since the epoch. */
  tsMs: number
  snapshot: boolean
  /**
   * A text that orders the changes of one source: compare two versions as strings, the later
   * change has the greater one (a snapshot row's is below every streamed change's). Sinks
   * guard on it, so a redelivered or late event never undoes newer data.
   */
  version: string
}

/** `detail` of a change event. */
export type ChangeDetail = {
  op: ChangeOp
  key: Record<string, unknown> | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  /** Columns whose value the database did not send (PostgreSQL's unchanged TOAST values). */
  unchanged: string[]
  /** Columns left out under the source's oversize policy. */
  truncated?: string[]
  source: ChangePosition
  transaction: { id: string; order: number }
}

/** One row change, ready to go onto the bus. */
export type Change = {
  /** Deterministic (UUID v5 of the source and its position), so a change read twice has one id. */
  id: string
  /** Commit time, ms. */
  time: number
  detailType: string
  detail: ChangeDetail
}

/**
 * A batch of changes with the position to resume from once they are stored. `checkpoint` is
 * absent for a part of a large transaction sent before its commit: the changes are stored, the
 * position does not move (a crash then repeats them, with the same ids).
 */
export type CaptureBatch = { changes: Change[]; checkpoint?: string }

/** Where a source sends what it read. */
export type CaptureSink = {
  /** The last checkpoint committed (absent before the first): where a (re)start resumes. */
  checkpoint(): string | undefined
  /** Resolves when the changes and the checkpoint are durable, in one store transaction. */
  commit(batch: CaptureBatch): Promise<void>
}

export type SourceState =
  'starting' | 'snapshotting' | 'streaming' | 'reconnecting' | 'failed' | 'stopped'

export type SourceStatus = {
  state: SourceState
  /** Why the source stopped or is reconnecting, with the fix when there is one. */
  error?: string
  /** Bytes of log (WAL, binlog) between the database's current position and the checkpoint. */
  lagBytes?: number
  /** Seconds between the last committed change's commit time and now. */
  lagSeconds?: number
  changesCaptured: number
  checkpoint?: string
}

/** A running source. `stop` disconnects promptly (a lagging reader must not hold up a database shutdown). */
export type ChangeSource = {
  start(): Promise<void>
  stop(): Promise<void>
  status(): SourceStatus
}

/** What a source needs from the server besides its sink. */
export type SourceDeps = {
  now(): number
  log: Logger
  /** The bus's event size limit in bytes (the oversize policy applies above it). */
  maxEventBytes: number
}

/**
 * Opens a source of one kind (not yet started). Each kind's module exports one:
 * `openPostgresSource` (src/cdc/postgres/source.ts), `openMysqlSource` (src/cdc/mysql/source.ts).
 */
export type OpenSource = (
  def: SourceDefinition,
  sink: CaptureSink,
  deps: SourceDeps,
) => ChangeSource
