/**
 * @module
 * What an operation handler receives: the caller's scope and the services of the bus.
 */
import type { Archives } from '../archive/archives.js'
import type { Replays } from '../archive/replays.js'
import type { Clock } from '../clock.js'
import type { Dispatcher } from '../delivery/dispatcher.js'
import type { Ingest } from '../engine/ingest.js'
import type { Registry } from '../engine/registry.js'
import type { Scope } from '../model.js'
import type { Schedules } from '../schedule/schedules.js'
import type { QueryOptions, QueryResult } from '../archive/query.js'
import type { Input } from './validate.js'
import type { AsyncInvoker } from '../functions/directory.js'
import type { Functions } from '../functions/functions.js'
import type { FunctionRunner } from '../functions/runner.js'
import type { Stacks } from '../deploy/stack-store.js'
import type { Sinks } from '../sink/sinks.js'
import type { SourcesRouteDeps } from './sources-route.js'

export type Services = {
  registry: Registry
  ingest: Ingest
  dispatcher: Dispatcher
  clock: Clock
  /** OAuth connections: fetch a token now; forget a cached one. */
  connections: {
    authorize(connectionArn: string): Promise<void>
    forget(connectionArn: string): void
  }
  archives: Archives
  replays: Replays
  /** EventBridge Scheduler's schedules and groups. */
  schedules: Schedules
  /** Lambda's functions: the registry, what runs them, and asynchronous invocations. */
  functions?: { directory: Functions; runner: FunctionRunner; async: AsyncInvoker }
  /** The records of `junction deploy`'s stacks (`/junction/stacks`). */
  stacks?: Stacks
  /** Database sinks, a Junction extension target (`/junction/sinks`). */
  sinks?: Sinks
  /** Change-capture sources (`/junction/sources`). */
  sources?: SourcesRouteDeps
  /** Read-only SQL over an archive's events (the SQLite store only). */
  queryArchive?: (archiveKey: number, sql: string, options?: QueryOptions) => Promise<QueryResult>
  limits: {
    maxRequestSize: number
    maxTargetsPerRule: number
    maxPatternLength: number
    /** Rules per bus (AWS's default quota: 300). */
    maxRulesPerBus: number
  }
}

export type RequestContext = { scope: Scope; requestId: string; services: Services }

/** An operation: wire input (already parsed JSON object) → wire output. */
export type Operation = (ctx: RequestContext, input: Input) => unknown
