/**
 * @module
 * What an operation handler receives: the caller's scope and the services of the bus.
 */
import type { Clock } from '../clock.js'
import type { Dispatcher } from '../delivery/dispatcher.js'
import type { Ingest } from '../engine/ingest.js'
import type { Registry } from '../engine/registry.js'
import type { Scope } from '../model.js'
import type { Input } from './validate.js'

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
  limits: { maxRequestSize: number; maxTargetsPerRule: number; maxPatternLength: number }
}

export type RequestContext = { scope: Scope; requestId: string; services: Services }

/** An operation: wire input (already parsed JSON object) → wire output. */
export type Operation = (ctx: RequestContext, input: Input) => unknown
