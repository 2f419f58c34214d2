/**
 * @module
 * The configuration on NATS: a key-value bucket that every node reads at start and then watches,
 * one key per document (`<kind>.<key in base64url>`: KV keys allow neither `:` nor most of what
 * ARNs hold).
 *
 * Atomicity: a bucket has no multi-key transaction, so an `apply` of several operations first
 * writes them as one intent (`_intent.<id>`), then the keys, then deletes the intent. An intent
 * still there at start, older than {@link STALE_INTENT_MS}, is a writer that died midway: its
 * operations are applied again (each is idempotent), so a deleted rule never leaves its targets
 * behind.
 *
 * Values: `{"o": origin, "d": document}`, and a delete is a put of `{"o": origin}` (a tombstone),
 * so that every change, deletes included, has a revision the writer learns and an origin the
 * watchers see.
 *
 * Order: the bucket gives every change a revision. A store remembers the latest revision it knows
 * of each key and reports a watched change only when it is newer and not its own, so its own
 * writes never come back to it and another node's older write never undoes a newer one. One race
 * is left to close: another node's newer write can arrive while this store's own write to the
 * same key is still waiting for its answer, and the caller then takes in its own (older) write
 * after the newer one. The store sees this from the revision its write got, and tells its
 * listeners of the newer write again once the caller has moved on.
 */
import { randomUUID } from 'node:crypto'
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import type { ConfigEntry, ConfigKind, ConfigOp, ConfigStore } from '../ports.js'

const INTENT = '_intent'
/** An intent this old belongs to a writer that died (an apply takes milliseconds). */
export const STALE_INTENT_MS = 30_000

const CONFIG_KINDS: ReadonlySet<string> = new Set<ConfigKind>([
  'bus',
  'rule',
  'targets',
  'tags',
  'connection',
  'api-destination',
  'archive',
  'replay',
  'function',
  'event-source-mapping',
  'schedule',
  'schedule-group',
  'stack',
  'sink',
  'cdc-source',
  'cdc-checkpoint',
])

export function configKey(kind: ConfigKind, key: string): string {
  return `${kind}.${Buffer.from(key, 'utf8').toString('base64url')}`
}

/** The kind and key of a bucket key; undefined for keys that are not documents (intents). */
export function parseConfigKey(k: string): { kind: ConfigKind; key: string } | undefined {
  const dot = k.indexOf('.')
  if (dot < 0) return undefined
  const kind = k.slice(0, dot)
  if (!CONFIG_KINDS.has(kind)) return undefined
  return { kind: kind as ConfigKind, key: Buffer.from(k.slice(dot + 1), 'base64url').toString() }
}

/** A document as the bucket holds it: who wrote it, and the document (absent: deleted). */
type StoredValue = { o: string; d?: unknown }

/** The bucket's name unless told otherwise. */
export const CONFIG_BUCKET = 'junction-config'

export type NatsConfigOptions = {
  now?: () => number
  /** Called when a watched entry cannot be read (a foreign key or value); it is skipped. */
  onBadEntry?: (key: string, error: unknown) => void
}

export class NatsConfigStore implements ConfigStore {
  /** The latest revision known of each bucket key. */
  private readonly revisions = new Map<string, number>()
  private readonly listeners: ((op: ConfigOp) => void)[] = []
  /** Changes watched before anyone listens (between `load` and `watch`). */
  private early: ConfigOp[] | undefined = []
  private stopWatching: (() => void) | undefined
  private intentSeq = 0
  /** Marks this store's writes, which its watcher then skips. */
  private readonly origin = randomUUID()
  /** Keys with a write of ours waiting for its answer, and how many. */
  private readonly writing = new Map<string, number>()
  /** Other nodes' changes to those keys, watched while ours waited. */
  private readonly raced = new Map<string, { op: ConfigOp; revision: number }>()

  /** Opens the bucket (creating it, keeping one value per key, on `replicas` servers). */
  static async open(
    nc: NatsConnection,
    options: NatsConfigOptions & { bucket?: string; replicas?: number } = {},
  ): Promise<NatsConfigStore> {
    const kv = await new Kvm(nc).create(options.bucket ?? CONFIG_BUCKET, {
      history: 1,
      replicas: options.replicas ?? 1,
    })
    return new NatsConfigStore(kv, options)
  }

  constructor(
    private readonly kv: KV,
    private readonly options: NatsConfigOptions = {},
  ) {}

  async load(): Promise<ConfigEntry[]> {
    // Watch first, then read: a change made while the keys are read is either read or watched,
    // and the revisions drop the one seen twice.
    await this.startWatch()
    const entries = new Map<string, ConfigEntry>()
    const intents: { ops: ConfigOp[]; created: number; key: string }[] = []
    const keys: string[] = []
    for await (const k of await this.kv.keys()) keys.push(k)
    for (const k of keys) {
      const e = await this.kv.get(k)
      if (!e || e.operation !== 'PUT') continue
      this.seen(k, e.revision)
      if (k.startsWith(`${INTENT}.`)) {
        intents.push({ ops: e.json<ConfigOp[]>(), created: e.created.getTime(), key: k })
        continue
      }
      const parsed = parseConfigKey(k)
      const value = e.json<StoredValue>()
      if (!parsed || !('d' in value)) continue
      entries.set(k, { kind: parsed.kind, key: parsed.key, doc: value.d })
    }
    const now = (this.options.now ?? Date.now)()
    for (const intent of intents.sort((a, b) => a.created - b.created)) {
      if (now - intent.created < STALE_INTENT_MS) continue
      await this.write(intent.ops)
      await this.kv.delete(intent.key)
      for (const op of intent.ops) {
        const k = configKey(op.kind, op.key)
        if (op.op === 'put') entries.set(k, { kind: op.kind, key: op.key, doc: op.doc })
        else entries.delete(k)
      }
    }
    return [...entries.values()]
  }

  async apply(ops: ConfigOp[]): Promise<void> {
    if (ops.length === 0) return
    const keys = [...new Set(ops.map((op) => configKey(op.kind, op.key)))]
    for (const k of keys) this.writing.set(k, (this.writing.get(k) ?? 0) + 1)
    let written = new Map<string, number>()
    try {
      if (ops.length === 1) {
        written = await this.write(ops)
        return
      }
      const intent = `${INTENT}.${process.pid.toString(36)}${Date.now().toString(36)}${String(++this.intentSeq)}`
      this.seen(intent, await this.kv.put(intent, JSON.stringify(ops)))
      written = await this.write(ops)
      await this.kv.delete(intent)
    } finally {
      // The caller takes our writes in once this resolves: another node's newer write to the
      // same keys, watched meanwhile, must reach it again after that.
      setImmediate(() => {
        this.settle(keys, written)
      })
    }
  }

  watch(listener: (op: ConfigOp) => void): () => void {
    this.listeners.push(listener)
    const early = this.early ?? []
    this.early = undefined
    for (const op of early) listener(op)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  close(): void {
    this.stopWatching?.()
  }

  /** Writes the documents; the revision each key got. */
  private async write(ops: ConfigOp[]): Promise<Map<string, number>> {
    const written = new Map<string, number>()
    for (const op of ops) {
      const k = configKey(op.kind, op.key)
      const value: StoredValue =
        op.op === 'put' ? { o: this.origin, d: op.doc } : { o: this.origin }
      const revision = await this.kv.put(k, JSON.stringify(value))
      this.seen(k, revision)
      written.set(k, revision)
    }
    return written
  }

  /** An apply's writes are taken in: tells again of newer writes that raced them. */
  private settle(keys: string[], written: Map<string, number>): void {
    for (const k of keys) {
      const raced = this.raced.get(k)
      if (
        raced &&
        raced.revision === this.revisions.get(k) &&
        raced.revision > (written.get(k) ?? 0)
      )
        this.emit(raced.op)
      const n = (this.writing.get(k) ?? 1) - 1
      if (n > 0) this.writing.set(k, n)
      else {
        this.writing.delete(k)
        this.raced.delete(k)
      }
    }
  }

  private emit(op: ConfigOp): void {
    if (this.early) this.early.push(op)
    else for (const fn of this.listeners) fn(op)
  }

  /** Records a revision; false if a newer or equal one was known (the change is old news). */
  private seen(k: string, revision: number): boolean {
    const known = this.revisions.get(k) ?? 0
    if (revision <= known) return false
    this.revisions.set(k, revision)
    return true
  }

  private async startWatch(): Promise<void> {
    if (this.stopWatching) return
    const iter = await this.kv.watch({ include: 'updates' })
    this.stopWatching = () => {
      iter.stop()
    }
    void (async () => {
      for await (const e of iter) {
        if (!this.seen(e.key, e.revision)) continue
        const parsed = parseConfigKey(e.key)
        // Intents, and deletes or purges made by hand, are not changes of a document.
        if (!parsed || e.operation !== 'PUT') continue
        let value: StoredValue
        try {
          value = e.json<StoredValue>()
        } catch (error) {
          this.options.onBadEntry?.(e.key, error)
          continue
        }
        if (value.o === this.origin) continue
        const op: ConfigOp =
          'd' in value
            ? { op: 'put', kind: parsed.kind, key: parsed.key, doc: value.d }
            : { op: 'delete', kind: parsed.kind, key: parsed.key }
        if (this.writing.has(e.key)) this.raced.set(e.key, { op, revision: e.revision })
        this.emit(op)
      }
    })()
  }
}
