/**
 * @module
 * The NATS store: distributed mode's {@link Store}, shared by every node connected to the same
 * NATS (JetStream) servers. Configuration in a watched key-value bucket (`config.ts`), leases for
 * work one node does at a time (`leases.ts`), delivery jobs and dead letters in streams with one
 * shared consumer (`jobs.ts`), archives in a stream each (`archives.ts`).
 *
 * One connection per node, which reconnects by itself for as long as it takes; while it is
 * down the store says so ({@link NatsStore.reachable}) and the server answers 503, which every
 * AWS client retries, instead of accepting what it cannot store.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { Store } from '../ports.js'
import { openNatsArchiveStore, type NatsArchiveStore } from './archives.js'
import { NatsCodeStore } from './code.js'
import { NatsConfigStore } from './config.js'
import { openNatsJobStore, type NatsJobStore } from './jobs.js'
import { NatsLeaseStore } from './leases.js'

export type NatsStoreOptions = {
  /** Comma-separated server URLs (`nats://host:4222,nats://other:4222`). */
  url: string
  /** Copies of every stream and bucket (1, or 3 on a three-server cluster). @default 1 */
  replicas?: number
  /** See `ServeConfig.natsAckWaitMs`. @default 30000 */
  ackWaitMs?: number
  /** This node's name on the connection (shown by the NATS server's monitoring). */
  name?: string
  log: {
    info(obj: object, msg: string): void
    warn(obj: object, msg: string): void
  }
}

export type NatsStore = Omit<Store, 'kind' | 'events' | 'leases'> & {
  readonly kind: 'nats'
  readonly events: NatsJobStore
  readonly leases: NatsLeaseStore
  readonly connection: NatsConnection
  /** False while the connection to NATS is down (it reconnects by itself). */
  reachable(): boolean
}

/** Refused to connect at start: the URL and NATS's reason, for the operator. */
export class NatsUnreachableError extends Error {}

/**
 * Connects and opens (creating where missing) every stream and bucket. Throws
 * {@link NatsUnreachableError} when no server answers.
 */
export async function connectNats(options: NatsStoreOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name ?? 'junction',
      // Once connected, never give up: the node answers 503 until NATS is back.
      maxReconnectAttempts: -1,
      // Otherwise every request (each publish, each ack) builds two Error objects with stack
      // traces up front, in case it fails: 18% of a node's CPU under load in bench:cluster.
      noAsyncTraces: true,
      reconnectTimeWait: 500,
    })
  } catch (e) {
    throw new NatsUnreachableError(
      `cannot reach NATS at ${options.url}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    )
  }
}

/** The store parts on one connection. The caller adds queues and archives (see `bus.ts`). */
export async function openNatsParts(
  nc: NatsConnection,
  options: NatsStoreOptions,
): Promise<{
  config: NatsConfigStore
  leases: NatsLeaseStore
  events: NatsJobStore
  archives: NatsArchiveStore
  code: NatsCodeStore
  reachable: () => boolean
}> {
  const replicas = options.replicas ?? 1
  let reachable = true
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        reachable = false
        options.log.warn(
          { server: s.server },
          'NATS connection lost; answering 503 until it is back',
        )
      } else if (s.type === 'reconnect') {
        reachable = true
        options.log.info({ server: s.server }, 'NATS connection back')
      }
    }
  })()
  const config = await NatsConfigStore.open(nc, { replicas })
  const leases = await NatsLeaseStore.open(nc, { replicas })
  const archives = await openNatsArchiveStore(nc, { replicas })
  const code = await NatsCodeStore.open(nc, { replicas })
  const events = await openNatsJobStore(nc, {
    replicas,
    config,
    archives,
    log: options.log,
    ...(options.ackWaitMs === undefined ? {} : { ackWaitMs: options.ackWaitMs }),
  })
  return { config, leases, events, archives, code, reachable: () => reachable && !nc.isClosed() }
}
