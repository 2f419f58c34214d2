/**
 * @module
 * Opens the store `serve` was told to use: memory, SQLite in the data directory, or NATS shared
 * with other nodes. What differs between one node and several beyond the store ports is said
 * here, once: where the dispatcher takes its jobs from, and whether the store can be out of
 * reach.
 */
import type { JobWindowFactory } from '../delivery/job-window.js'
import { createMemoryStore } from './memory/index.js'
import { connectNats, openNatsParts } from './nats/index.js'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Store } from './ports.js'
import { createSqliteStore } from './sqlite/index.js'

export type OpenedStore = {
  store: Store
  /** False while a shared store is out of reach: the server answers 503 (clients retry). */
  reachable: () => boolean
  /** Where the dispatcher takes its jobs from, when not in due order from `store.events`. */
  jobWindow?: JobWindowFactory
  /** The shared store's connection, for the parts that open their own streams (queues). */
  nats?: { nc: NatsConnection; replicas: number }
}

export type OpenStoreOptions = {
  store: 'memory' | 'sqlite' | 'nats'
  dataDir: string
  sync: 'full' | 'normal'
  natsUrl?: string | undefined
  natsReplicas?: number | undefined
  natsAckWaitMs?: number | undefined
  log: {
    info(obj: object, msg: string): void
    warn(obj: object, msg: string): void
    fatal(obj: object, msg: string): void
  }
  /** The SQLite writer died: nothing more can be stored. */
  onFatal: (e: Error) => void
}

export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const always = () => true
  if (options.store === 'memory') return { store: createMemoryStore(), reachable: always }
  if (options.store === 'sqlite')
    return {
      store: createSqliteStore({
        dataDir: options.dataDir,
        synchronous: options.sync,
        onFatal(e) {
          options.log.fatal({ err: e }, 'the store writer stopped; no event can be stored any more')
          options.onFatal(e)
        },
      }),
      reachable: always,
    }
  if (options.natsUrl === undefined) throw new Error('--store nats needs --nats-url')
  const natsOptions = {
    url: options.natsUrl,
    log: options.log,
    ...(options.natsReplicas === undefined ? {} : { replicas: options.natsReplicas }),
    ...(options.natsAckWaitMs === undefined ? {} : { ackWaitMs: options.natsAckWaitMs }),
  }
  const nc = await connectNats(natsOptions)
  try {
    const parts = await openNatsParts(nc, natsOptions)
    const store: Store = {
      kind: 'nats',
      config: parts.config,
      events: parts.events,
      leases: parts.leases,
      archives: parts.archives,
      code: parts.code,
      async close() {
        parts.events.close()
        parts.config.close()
        await nc.drain().catch(() => undefined)
      },
    }
    return {
      store,
      reachable: parts.reachable,
      jobWindow: (deps) => parts.events.window(deps),
      nats: { nc, replicas: options.natsReplicas ?? 1 },
    }
  } catch (e) {
    await nc.close().catch(() => undefined)
    throw e
  }
}
