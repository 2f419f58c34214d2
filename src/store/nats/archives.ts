/**
 * @module
 * Archives on NATS JetStream, shared by every node: the `ArchiveStore` of distributed mode.
 *
 * - One stream per archive, `JUNCTION_ARCHIVE_<key>` on subject `junction.archive.<key>` (file
 *   storage), created by the first append that archives an event in it. Each message is one
 *   archived event: its text as the body (so the stream's bytes are mostly the events'), its id,
 *   bus, time, ingest time and hops in headers. The message id is the archive key and the event
 *   id, so an append retried after a lost answer archives nothing twice (within the stream's
 *   duplicate window).
 * - `archivedAt` is the event's ingest time, as in the other stores: the archive's message is
 *   written by the append that stores the event.
 *
 * Order, and how it differs from the SQLite store: a page lists the archive's events in the
 * order the stream received them (its sequence), keeping those whose time is in [from, to];
 * `seq` is the stream sequence and a cursor resumes after `cursor.seq` (its `time` is not used
 * to position). SQLite orders by (event time, then arrival). Sorting a stream by event time
 * would mean reading all of it into memory (or one full scan per page), so this store does
 * not: events put with a `Time` earlier than an event archived before them come out later than
 * SQLite would give them. Replays therefore send an archive's events in arrival order; their
 * times are not monotonic when producers set `Time` out of order, and a paced replay (`speed`)
 * sends such an event at once (its pause is negative). AWS does not promise replays in event
 * time order either. A page reads the stream from the cursor on, a bounded batch at a time,
 * skipping events outside [from, to]: a whole replay reads each message of the archive once.
 *
 * Retention (`purge`) forgets the stream's prefix archived before the cutoff, found by binary
 * search over sequences: it assumes ingest times grow with the sequence. Nodes whose clocks
 * disagree can break that by their skew; such an event stays until a later purge passes it.
 *
 * `stats` reports the stream's message count and its bytes as the server counts them: each
 * event's text plus its message's overhead (subject, headers with id, bus, times and message
 * id, and the server's own record of ~22 bytes). So `sizeBytes` is larger than the sum of the
 * events' sizes, which the SQLite store reports and AWS's SizeBytes approximates, by about
 * 350 bytes per event with a default bus ARN and a UUID event id (measured: 458 bytes stored
 * for a 100-byte event).
 *
 * Threading: any number of nodes may append, page, purge and drop at once; a drop on one node
 * while another appends to the archive can leave the stream re-created with the later events
 * (archives are dropped after their rule is gone, so none should arrive).
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream'
import { headers, nanos, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node'
import type { ArchiveCursor, StoredEvent } from '../../model.js'
import type { ArchivedEvent, ArchiveEntry, ArchiveStore } from '../ports.js'
import { DUPLICATE_WINDOW_MS } from './streams.js'

export const ARCHIVE_STREAM_PREFIX = 'JUNCTION_ARCHIVE_'
export const ARCHIVE_SUBJECT_PREFIX = 'junction.archive'

/** Messages a page asks the server for at a time (bounds the memory of a page's scan). */
const READ_BATCH = 256

const H = {
  id: 'Junction-Event-Id',
  bus: 'Junction-Bus',
  time: 'Junction-Time',
  ingestedAt: 'Junction-Ingested-At',
  hops: 'Junction-Hops',
} as const

export type NatsArchiveOptions = {
  /**
   * Copies of each archive's stream in a JetStream cluster.
   * @default 1
   */
  replicas?: number
}

export const archiveStream = (archive: number) => `${ARCHIVE_STREAM_PREFIX}${String(archive)}`
export const archiveSubject = (archive: number) => `${ARCHIVE_SUBJECT_PREFIX}.${String(archive)}`

/**
 * Opens the archive store on `nc` (no stream is created until an event is archived). The
 * connection stays the caller's.
 *
 * @example
 * const archives = await openNatsArchiveStore(nc, { replicas: 3 })
 * const jobs = await openNatsJobStore(nc, { replicas: 3, archives })
 * const first = await archives.page(archive.key, 0, Date.now(), undefined, 100)
 */
export async function openNatsArchiveStore(
  nc: NatsConnection,
  options: NatsArchiveOptions = {},
): Promise<NatsArchiveStore> {
  return new NatsArchiveStore(jetstream(nc), await jetstreamManager(nc), options.replicas ?? 1)
}

export class NatsArchiveStore implements ArchiveStore {
  /** Streams this node created or saw: a publish to one needs no check first. */
  private readonly known = new Map<number, Promise<void>>()

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly replicas: number,
  ) {}

  /**
   * Archives `entries` (of `events`, as `AppendExtras.archived` gives them); resolves once the
   * server has stored every one.
   */
  async write(events: readonly StoredEvent[], entries: readonly ArchiveEntry[]): Promise<void> {
    await Promise.all(
      entries.map((entry) => {
        const event = events[entry.event]
        if (!event)
          throw new Error(`archive entry for event ${String(entry.event)}, not in the append`)
        return this.publish(entry, event)
      }),
    )
  }

  async stats(archive: number): Promise<{ eventCount: number; sizeBytes: number }> {
    const state = await this.state(archive)
    return { eventCount: state?.messages ?? 0, sizeBytes: state?.bytes ?? 0 }
  }

  async page(
    archive: number,
    from: number,
    to: number,
    after: ArchiveCursor | undefined,
    limit: number,
  ): Promise<ArchivedEvent[]> {
    const out: ArchivedEvent[] = []
    const state = await this.state(archive)
    const start = Math.max(state?.first_seq ?? 0, (after?.seq ?? 0) + 1)
    if (!state || state.messages === 0 || start > state.last_seq || limit <= 0) return out
    const reader = await this.js.consumers.get(archiveStream(archive), { opt_start_seq: start })
    try {
      for (let done = false; !done;) {
        const batch = await reader.fetch({ max_messages: READ_BATCH, expires: 2_000 })
        let seen = 0
        for await (const m of batch) {
          seen++
          const time = Number(m.headers?.get(H.time))
          if (time >= from && time <= to) out.push(archived(m.seq, m.headers, m.data))
          // The last message stored when it was read, or the page is full: stop here.
          done = out.length >= limit || m.info.pending === 0 || m.seq >= state.last_seq
          if (done) break
        }
        if (seen === 0) done = true // purged or dropped meanwhile
      }
    } finally {
      await reader.delete().catch(() => undefined)
    }
    return out
  }

  async purge(archive: number, archivedBefore: number): Promise<void> {
    const state = await this.state(archive)
    if (!state || state.messages === 0) return
    // The first sequence archived at or after the cutoff; everything before it goes.
    let low = state.first_seq
    let high = state.last_seq + 1
    while (low < high) {
      const mid = Math.floor((low + high) / 2)
      const m = await this.message(archive, mid)
      if (m && Number(m.header.get(H.ingestedAt)) < archivedBefore) low = mid + 1
      else high = mid
    }
    if (low > state.first_seq) await this.jsm.streams.purge(archiveStream(archive), { seq: low })
  }

  async drop(archive: number): Promise<void> {
    this.known.delete(archive)
    try {
      await this.jsm.streams.delete(archiveStream(archive))
    } catch (e) {
      if (!isStreamNotFound(e)) throw e
    }
  }

  private async publish(entry: ArchiveEntry, event: StoredEvent): Promise<void> {
    const h = headers()
    h.set(H.id, event.id)
    h.set(H.bus, event.busArn)
    h.set(H.time, String(entry.time))
    h.set(H.ingestedAt, String(event.ingestedAt))
    h.set(H.hops, String(event.hops))
    const send = () =>
      this.js.publish(archiveSubject(entry.archive), event.text, {
        headers: h,
        msgID: `${String(entry.archive)} ${event.id}`,
      })
    await this.ensure(entry.archive)
    try {
      await send()
    } catch {
      // Another node may have dropped the stream since this one saw it: check it and retry
      // once (the message id keeps a publish that did land from counting twice).
      this.known.delete(entry.archive)
      await this.ensure(entry.archive)
      await send()
    }
  }

  /** Creates the archive's stream unless this node knows it exists. */
  private ensure(archive: number): Promise<void> {
    let ready = this.known.get(archive)
    if (!ready) {
      ready = this.create(archive)
      this.known.set(archive, ready)
      ready.catch(() => this.known.delete(archive))
    }
    return ready
  }

  private async create(archive: number): Promise<void> {
    const name = archiveStream(archive)
    try {
      await this.jsm.streams.info(name)
      return
    } catch (e) {
      if (!isStreamNotFound(e)) throw e
    }
    // Two nodes creating the same configuration at once both succeed.
    await this.jsm.streams.add({
      name,
      subjects: [archiveSubject(archive)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: this.replicas,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    })
  }

  private async state(archive: number) {
    try {
      return (await this.jsm.streams.info(archiveStream(archive))).state
    } catch (e) {
      if (isStreamNotFound(e)) return undefined
      throw e
    }
  }

  /** The message at `seq`, or null where there is none (`getMessage` answers null then). */
  private message(archive: number, seq: number): Promise<StoredMsg | null> {
    return this.jsm.streams.getMessage(archiveStream(archive), { seq })
  }
}

function archived(seq: number, h: MsgHdrs | undefined, data: Uint8Array): ArchivedEvent {
  const get = (name: string) => h?.get(name) ?? ''
  const ingestedAt = Number(get(H.ingestedAt))
  return {
    time: Number(get(H.time)),
    seq,
    archivedAt: ingestedAt,
    event: {
      id: get(H.id),
      busArn: get(H.bus),
      text: new TextDecoder().decode(data),
      ingestedAt,
      hops: Number(get(H.hops)),
    },
  }
}

function isStreamNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound
}
