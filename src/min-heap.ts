/**
 * @module
 * A binary min-heap under a given order: what one timer needs to serve many waiting items
 * (delivery jobs by due time, scheduled rules by next tick), earliest first.
 */
export class MinHeap<T> {
  private items: T[] = []

  /** `before(a, b)`: `a` may come out no later than `b`. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length
  }

  /** The items, in no particular order. */
  values(): readonly T[] {
    return this.items
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const a = this.items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.before(a[parent]!, a[i]!)) break
      ;[a[parent], a[i]] = [a[i]!, a[parent]!]
      i = parent
    }
  }

  pop(): T | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last !== undefined) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let least = i
        if (l < a.length && this.before(a[l]!, a[least]!)) least = l
        if (r < a.length && this.before(a[r]!, a[least]!)) least = r
        if (least === i) break
        ;[a[least], a[i]] = [a[i]!, a[least]!]
        i = least
      }
    }
    return top
  }

  /** Removes and returns the items `drop` accepts; the rest keep their heap order. */
  remove(drop: (item: T) => boolean): T[] {
    const dropped: T[] = []
    const kept: T[] = []
    for (const item of this.items) (drop(item) ? dropped : kept).push(item)
    this.items = []
    for (const item of kept) this.push(item)
    return dropped
  }

  /** Removes everything. */
  clear(): void {
    this.items = []
  }
}
