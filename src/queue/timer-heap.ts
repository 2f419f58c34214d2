/**
 * @module
 * A binary min-heap of (time, item): the messages of a queue that become visible later, earliest
 * first. Entries are never updated in place; a changed time pushes a new entry and the reader
 * skips the stale one.
 */
export type Timed<T> = { at: number; item: T }

export class TimerHeap<T> {
  private readonly entries: Timed<T>[] = []

  get size(): number {
    return this.entries.length
  }

  push(at: number, item: T): void {
    const e = this.entries
    e.push({ at, item })
    let i = e.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (e[parent]!.at <= e[i]!.at) break
      ;[e[parent], e[i]] = [e[i]!, e[parent]!]
      i = parent
    }
  }

  /** Keeps only the entries `keep` accepts, and restores the heap order. */
  retain(keep: (item: T, at: number) => boolean): void {
    const kept = this.entries.filter((e) => keep(e.item, e.at))
    this.entries.length = 0
    for (const e of kept) this.push(e.at, e.item)
  }

  peek(): Timed<T> | undefined {
    return this.entries[0]
  }

  pop(): Timed<T> | undefined {
    const e = this.entries
    const top = e[0]
    const last = e.pop()
    if (e.length > 0 && last) {
      e[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let least = i
        if (l < e.length && e[l]!.at < e[least]!.at) least = l
        if (r < e.length && e[r]!.at < e[least]!.at) least = r
        if (least === i) break
        ;[e[least], e[i]] = [e[i]!, e[least]!]
        i = least
      }
    }
    return top
  }
}
