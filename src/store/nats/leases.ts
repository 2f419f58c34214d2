/**
 * @module
 * Leases on NATS: a key-value bucket whose values expire `ttlMs` after they were written (the
 * bucket's max age, kept by the server, so the nodes' clocks never enter into it). The holder's
 * name is the value; taking a free lease is a `create` (refused when the key exists), renewing
 * is an `update` on the revision read (refused when another node has written since).
 */
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import type { LeaseStore } from '../ports.js'

export const LEASE_BUCKET = 'junction-leases'
export const DEFAULT_LEASE_TTL_MS = 10_000

export class NatsLeaseStore implements LeaseStore {
  static async open(
    nc: NatsConnection,
    options: { bucket?: string; ttlMs?: number; replicas?: number } = {},
  ): Promise<NatsLeaseStore> {
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS
    const kv = await new Kvm(nc).create(options.bucket ?? LEASE_BUCKET, {
      history: 1,
      ttl: ttlMs,
      replicas: options.replicas ?? 1,
    })
    return new NatsLeaseStore(kv, ttlMs)
  }

  constructor(
    private readonly kv: KV,
    readonly ttlMs: number,
  ) {}

  async hold(name: string, holder: string): Promise<boolean> {
    const e = await this.kv.get(name)
    if (!e || e.operation !== 'PUT') return this.refusedAsFalse(this.kv.create(name, holder))
    if (e.string() !== holder) return false
    return this.refusedAsFalse(this.kv.update(name, holder, e.revision))
  }

  async release(name: string, holder: string): Promise<void> {
    const e = await this.kv.get(name)
    if (e?.operation !== 'PUT' || e.string() !== holder) return
    await this.kv.delete(name, { previousSeq: e.revision }).catch(() => undefined)
  }

  /** A write the server refused because another node wrote first: not held. */
  private async refusedAsFalse(write: Promise<number>): Promise<boolean> {
    try {
      await write
      return true
    } catch (e) {
      if (isWrongRevision(e)) return false
      throw e
    }
  }
}

/** JetStream's "wrong last sequence" (10071): a compare-and-set lost to another writer. */
function isWrongRevision(e: unknown): boolean {
  const err = e as { api_error?: { err_code?: number }; message?: string }
  return err.api_error?.err_code === 10071 || /wrong last sequence/i.test(err.message ?? '')
}
