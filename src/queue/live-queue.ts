/**
 * @module
 * One queue's messages, and which of them a receive may take. A message is delayed (sent with a
 * delay, never received), visible, or in flight (received, its visibility timeout running).
 * Standard queues hand out visible messages oldest first; FIFO queues keep each message group in
 * order and hold a group back while any of its messages is in flight.
 *
 * Only a window of the messages is in memory; the rest are only in the store and are paged in
 * as receives need them. Messages are ordered by a key: (visibleAt, seq) on a standard queue,
 * seq (send order) on a FIFO queue. The invariant: every stored message whose key is at most
 * `horizon` is in memory (no horizon: every one is). Memory may hold messages beyond the horizon
 * too: those with a change not yet committed (pinned) stay until it is, then leave (`settle`),
 * so a page, which sees only committed rows, never reads a row that memory knows to be stale.
 * Seqs in `unsettled` (a send or a delete being committed) are skipped by pages for the same
 * reason. A FIFO queue never lets an in-flight message leave memory: its group must stay blocked.
 *
 * Not safe for concurrent use: the engine calls it from one thread, and a page is read
 * synchronously inside the call that needs it.
 */
import { Deque } from './deque.js'
import type { DedupRecord, PageKey, QueueCensus, QueueRecord, StoredMessage } from './model.js'
import { settingsOf, type QueueSettings } from './attributes.js'
import type { QueueStore } from '../store/ports.js'
import { StoreTally } from './store-tally.js'
import { TimerHeap } from './timer-heap.js'

export type MessageState = 'delayed' | 'visible' | 'inflight' | 'gone'

export type LiveMessage = StoredMessage & {
  state: MessageState
  /** MD5 of the body, computed once on first receive. */
  md5?: string
  /** Changes to it not yet committed; it stays in memory while there are any. */
  pins?: number
}

/** Where messages come from beyond memory, and how many a queue keeps in memory. */
export type Paging = { store: QueueStore; window: number }

/** Before every key. */
const START: PageKey = { visibleAt: Number.MIN_SAFE_INTEGER, seq: 0 }
/** Rows read per page at most: a page is read while a receive waits for it. */
const PAGE = 1000

type Group = { messages: Deque<LiveMessage>; inFlight: number }

/** What a waiting ReceiveMessage call is waiting for. */
export type Waiter = {
  /** Tries to receive; true once the waiter is satisfied (and must be dropped). */
  attempt(): boolean
}

export class LiveQueue {
  record: QueueRecord
  settings: QueueSettings
  readonly arn: string
  /** The messages in memory. */
  readonly byId = new Map<string, LiveMessage>()
  /** Messages in memory, by state. */
  readonly held = { visible: 0, inflight: 0, delayed: 0 }
  /** Messages only in the store, by state. */
  readonly stored = new StoreTally()
  /** Every stored message with a key up to this is in memory; none: every stored message is. */
  horizon?: PageKey
  /** Seqs whose row may not yet show what the engine knows (a send or delete being committed). */
  readonly unsettled = new Set<number>()
  /** While a purge up to this seq is being committed, pages skip the rows it deletes. */
  purging = 0
  /** FIFO deduplication ids of the last five minutes, by scope key. */
  readonly dedup = new Map<string, DedupRecord>()
  readonly waiters: Waiter[] = []
  /** When PurgeQueue last ran (one purge per 60 s). */
  lastPurgeAt?: number
  /** Messages up to this seq were purged; one committed after the purge is not added. */
  purgedUpTo = 0
  /** Resolves once the queue's creation is committed. */
  created: Promise<void> = Promise.resolve()
  /** The timer that wakes waiters when a hidden message becomes visible. */
  wake?: { at: number; cancel: () => void }

  /** Standard queues: visible messages, oldest first (entries of other states are skipped). */
  private readonly ready = new Deque<LiveMessage>()
  /** FIFO queues: every message by group, in send order. */
  private readonly groups = new Map<string, Group>()
  private readonly hidden = new TimerHeap<LiveMessage>()
  /** True while take() walks a group by index. */
  private taking = false
  /** FIFO, after a start: pages reach at least this seq, so every in-flight message is in memory. */
  private loadTo = 0

  constructor(
    record: QueueRecord,
    arn: string,
    private readonly paging: Paging,
  ) {
    this.record = record
    this.arn = arn
    this.settings = settingsOf(record.attributes)
  }

  get fifo(): boolean {
    return this.settings.fifo
  }

  /** Every message, in memory or only in the store, by state (as of the last promote). */
  get counts(): { visible: number; inflight: number; delayed: number } {
    return {
      visible: this.held.visible + this.stored.visible,
      inflight: this.held.inflight + this.stored.inflight,
      delayed: this.held.delayed + this.stored.delayed,
    }
  }

  /** At a start: every stored message is only in the store, counted by a census taken at `at`. */
  start(census: QueueCensus, at: number): void {
    this.stored.init(census, at)
    if (this.stored.total > 0) this.horizon = START
    this.loadTo = this.fifo ? census.maxInflightSeq : 0
  }

  /** Adds a message (paged in, or moved here by a redrive) in the state its times give. */
  add(m: StoredMessage, now: number): LiveMessage {
    const live = m as LiveMessage
    this.byId.set(live.id, live)
    if (this.fifo) this.enqueue(this.group(live.groupId ?? '').messages, live)
    if (live.visibleAt > now) {
      live.state = live.receiveCount > 0 ? 'inflight' : 'delayed'
      if (live.state === 'inflight') this.inFlightChanged(live, 1)
      this.held[live.state]++
      this.hidden.push(live.visibleAt, live)
    } else {
      live.state = 'visible'
      this.held.visible++
      if (!this.fifo) this.ready.push(live)
    }
    return live
  }

  /**
   * A message just sent (committed): into memory if its key is within the horizon, else it stays
   * only in the store. When memory is full the horizon comes down to just below it, and what is
   * then beyond the horizon leaves memory.
   */
  admit(m: StoredMessage, now: number): void {
    if (this.beyond(m)) {
      this.stored.add(m)
      return
    }
    this.add(m, now)
    if (this.byId.size > this.paging.window) this.lower(this.keyOf(m))
  }

  /**
   * A message moved here by a redrive, whose move is not committed yet: in memory (pinned, so
   * a page cannot read its row before then) and, when memory is over the window, the horizon
   * comes down to just below it, so that it leaves once its move is committed ({@link unpin}).
   */
  arrive(m: StoredMessage, now: number): LiveMessage {
    const beyond = this.beyond(m)
    const live = this.add(m, now)
    this.pin(live)
    // Beyond the horizon already: it leaves once committed, and the horizon must not go up.
    if (!beyond && this.byId.size > this.paging.window) this.lower(this.keyOf(live))
    return live
  }

  /** Whether a receive could find a visible message, in memory or by paging. */
  receivable(now: number): boolean {
    return this.held.visible > 0 || this.mayPage(now)
  }

  /**
   * Reads more messages in when a receive wants `want` more and the store may hold them; true
   * if it read any. A FIFO queue pages even when memory holds visible messages (their groups
   * may be blocked), up to twice the window.
   */
  pageMore(now: number, want: number): boolean {
    if (this.loadInflight(now) > 0) return true
    if (!this.mayPage(now)) return false
    const room = this.fifo
      ? 2 * this.paging.window - this.byId.size
      : Math.max(want, this.paging.window - this.byId.size)
    if (room <= 0) return false
    return this.pageIn(now, Math.max(want, Math.min(PAGE, room))) > 0
  }

  /** FIFO after a start: pages in at least as far as the last in-flight message; how many. */
  loadInflight(now: number): number {
    let added = 0
    while (this.horizon && this.horizon.seq < this.loadTo) added += this.pageIn(now, PAGE)
    this.loadTo = 0
    return added
  }

  /**
   * The message a receipt handle names when it is not in memory. A standard queue takes it in
   * (it leaves again once its change is committed); a FIFO queue gets a detached copy to check
   * the handle against, never in flight (a FIFO message in flight is always in memory).
   */
  fetch(id: string, seq: number | undefined, now: number): LiveMessage | undefined {
    if (!this.horizon || (seq !== undefined && this.unsettled.has(seq))) return undefined
    const row = this.paging.store.message(this.record.id, id, seq)
    if (!row || this.unsettled.has(row.seq) || row.seq <= this.purging) return undefined
    if (!this.fifo) {
      this.stored.remove(row)
      return this.add(row, now)
    }
    const copy = row as LiveMessage
    copy.state = row.visibleAt > now && row.receiveCount === 0 ? 'delayed' : 'visible'
    return copy
  }

  /** A change to `m` is being committed: it stays in memory until then. */
  pin(m: LiveMessage): void {
    m.pins = (m.pins ?? 0) + 1
  }

  /** A change to `m` is committed; it leaves memory if it is beyond the horizon. */
  unpin(m: LiveMessage): void {
    if (m.pins) m.pins--
    this.settle(m)
  }

  /** Takes a message beyond the horizon out of memory, unless a change to it is uncommitted. */
  settle(m: LiveMessage): void {
    if (m.pins || m.state === 'gone' || this.byId.get(m.id) !== m || !this.beyond(m)) return
    if (this.fifo && m.state === 'inflight') return
    this.held[m.state]--
    m.state = 'gone'
    this.byId.delete(m.id)
    this.stored.add(m)
  }

  /** After a purge: what was only in the store is gone (the purge's commit deletes it). */
  dropStored(upToSeq: number): void {
    this.stored.clear()
    delete this.horizon
    this.purging = upToSeq
  }

  /** Makes visible every hidden message whose time has come. */
  promote(now: number): void {
    this.stored.promote(now)
    for (;;) {
      const top = this.hidden.peek()
      if (!top || top.at > now) return
      this.hidden.pop()
      const m = top.item
      if (m.visibleAt !== top.at || (m.state !== 'delayed' && m.state !== 'inflight')) continue
      this.held[m.state]--
      if (m.state === 'inflight') this.inFlightChanged(m, -1)
      m.state = 'visible'
      this.held.visible++
      if (!this.fifo) this.ready.push(m)
    }
  }

  /** When the next hidden message becomes visible (in memory or only in the store), if any. */
  nextChange(now: number): number | undefined {
    const held = this.nextHeld()
    let stored: number | undefined
    if (this.horizon && this.stored.total > 0)
      // A standard queue's stored messages have keys beyond the horizon: none is visible before
      // its time; a page then reads them, and the next wake comes from memory.
      stored =
        !this.fifo && this.horizon.visibleAt > now ? this.horizon.visibleAt : this.stored.nextDue()
    if (held === undefined) return stored
    return stored === undefined ? held : Math.min(held, stored)
  }

  private nextHeld(): number | undefined {
    for (;;) {
      const top = this.hidden.peek()
      if (!top) return undefined
      const m = top.item
      if (m.visibleAt === top.at && (m.state === 'delayed' || m.state === 'inflight')) return top.at
      this.hidden.pop()
    }
  }

  /**
   * Takes up to `max` visible messages and marks them in flight until `visibleAt`. `keep` sees
   * each candidate first; when it says no it has removed the message (expired, or moved to a
   * dead-letter queue) and the next one is tried.
   */
  take(max: number, visibleAt: number, keep: (m: LiveMessage) => boolean): LiveMessage[] {
    const out: LiveMessage[] = []
    if (this.fifo) {
      for (const [id, g] of this.groups) {
        if (out.length >= max) break
        if (g.inFlight > 0) continue
        const before = out.length
        // A message `keep` removes must not shift the group under the index (see remove).
        this.taking = true
        try {
          for (let i = 0; i < g.messages.length && out.length < max; i++) {
            const m = g.messages.at(i)!
            if (m.state === 'gone') continue
            if (m.state !== 'visible') break
            if (!keep(m)) continue
            this.hide(m, visibleAt)
            out.push(m)
          }
        } finally {
          this.taking = false
        }
        this.compact(id, g)
        // Served groups go to the back, so the next receive starts with another group.
        if (out.length > before && this.groups.get(id) === g) {
          this.groups.delete(id)
          this.groups.set(id, g)
        }
      }
      return out
    }
    while (out.length < max) {
      const m = this.ready.shift()
      if (!m) break
      if (m.state !== 'visible' || !keep(m)) continue
      this.hide(m, visibleAt)
      out.push(m)
    }
    return out
  }

  /** Hides a visible or in-flight message until `visibleAt` (it is in flight meanwhile). */
  hide(m: LiveMessage, visibleAt: number): void {
    if (m.state !== 'inflight') {
      this.held[m.state as 'visible' | 'delayed']--
      this.held.inflight++
      this.inFlightChanged(m, 1)
      m.state = 'inflight'
    }
    m.visibleAt = visibleAt
    this.hidden.push(visibleAt, m)
    this.pruneHidden()
  }

  /**
   * Entries of deleted or re-hidden messages stay in the heap until their time comes; when they
   * outnumber the live ones the heap is rebuilt, so deleted messages (a visibility timeout can
   * be 12 hours) are not held in memory.
   */
  private pruneHidden(): void {
    const live = this.held.inflight + this.held.delayed
    if (this.hidden.size < 1024 || this.hidden.size < 2 * live) return
    this.hidden.retain(
      (m, at) => m.visibleAt === at && (m.state === 'delayed' || m.state === 'inflight'),
    )
  }

  /** Deletes a message from the queue. */
  remove(m: LiveMessage): void {
    if (m.state === 'gone') return
    this.held[m.state]--
    if (m.state === 'inflight') this.inFlightChanged(m, -1)
    m.state = 'gone'
    this.byId.delete(m.id)
    this.pruneHidden()
    if (this.fifo && !this.taking) {
      const id = m.groupId ?? ''
      const g = this.groups.get(id)
      if (g) this.compact(id, g)
    }
  }

  /** Messages sent up to `upToSeq` (a purge), oldest first. */
  messagesUpTo(upToSeq: number): LiveMessage[] {
    return [...this.byId.values()].filter((m) => m.seq <= upToSeq)
  }

  /** The store may hold a message a receive could take now. */
  private mayPage(now: number): boolean {
    if (!this.horizon) return false
    if (this.stored.total === 0 && this.loadTo === 0) {
      // Nothing is only in the store (sends being committed are not counted yet, and are not
      // read by pages either).
      delete this.horizon
      return false
    }
    return this.fifo || this.horizon.visibleAt <= now
  }

  /**
   * Reads up to `limit` messages after the horizon into memory and moves the horizon to the
   * last one read (or drops it when the store has no more); the number taken in.
   */
  private pageIn(now: number, limit: number): number {
    if (!this.horizon) return 0
    const rows = this.paging.store.page(
      this.record.id,
      this.fifo ? 'seq' : 'visibility',
      this.horizon,
      limit,
    )
    let added = 0
    for (const row of rows) {
      // In memory already (its row may be stale), or a send or delete not yet committed.
      if (this.byId.has(row.id) || this.unsettled.has(row.seq) || row.seq <= this.purging) continue
      this.stored.remove(row)
      this.add(row, now)
      added++
    }
    const last = rows[rows.length - 1]
    if (rows.length < limit || !last) {
      // Everything after the horizon has been read: nothing is only in the store.
      delete this.horizon
      this.stored.clear()
    } else this.horizon = this.keyOf(last)
    return added
  }

  /** Brings the horizon down to just below `key`, and lets out what is then beyond it. */
  private lower(key: PageKey): void {
    this.horizon = { visibleAt: key.visibleAt, seq: key.seq - 1 }
    for (const m of [...this.byId.values()]) this.settle(m)
    // Let go of the queue entries of messages that left.
    this.ready.retain((m) => m.state !== 'gone')
    for (const [id, g] of this.groups) {
      g.messages.retain((m) => m.state !== 'gone')
      this.compact(id, g)
    }
    this.hidden.retain(
      (m, at) => m.visibleAt === at && (m.state === 'delayed' || m.state === 'inflight'),
    )
  }

  private keyOf(m: StoredMessage): PageKey {
    return { visibleAt: this.fifo ? 0 : m.visibleAt, seq: m.seq }
  }

  /** Whether the message's key is beyond the horizon (it need not be in memory). */
  private beyond(m: StoredMessage): boolean {
    const h = this.horizon
    if (!h) return false
    const at = this.fifo ? 0 : m.visibleAt
    return at > h.visibleAt || (at === h.visibleAt && m.seq > h.seq)
  }

  /** A group's messages stay in seq order, even when one arrives out of order. */
  private enqueue(messages: Deque<LiveMessage>, m: LiveMessage): void {
    let i = messages.length
    while (i > 0 && messages.at(i - 1)!.seq > m.seq) i--
    if (i === messages.length) messages.push(m)
    else messages.insert(i, m)
  }

  private group(id: string): Group {
    let g = this.groups.get(id)
    if (!g) {
      g = { messages: new Deque(), inFlight: 0 }
      this.groups.set(id, g)
    }
    return g
  }

  private inFlightChanged(m: LiveMessage, by: number): void {
    if (this.fifo) this.group(m.groupId ?? '').inFlight += by
  }

  /** Drops deleted messages from the front of a group, and the group once it is empty. */
  private compact(id: string, g: Group): void {
    while (g.messages.peek()?.state === 'gone') g.messages.shift()
    if (g.messages.length === 0 && g.inFlight === 0) this.groups.delete(id)
  }
}
