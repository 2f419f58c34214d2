/**
 * @module
 * A double-ended queue on a growable ring buffer: O(1) push, shift and indexed reads, where
 * `Array.prototype.shift` copies the array once it is large.
 */
export class Deque<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16)
  private head = 0
  private count = 0

  get length(): number {
    return this.count
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) % this.items.length] = item
    this.count++
  }

  /** The item `i` places from the front. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined
    return this.items[(this.head + i) % this.items.length]
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.count--
    return item
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }

  /** Keeps only the items `keep` accepts, in order. */
  retain(keep: (item: T) => boolean): void {
    const kept: T[] = []
    for (let i = 0; i < this.count; i++) {
      const item = this.items[(this.head + i) % this.items.length]!
      if (keep(item)) kept.push(item)
    }
    this.items = new Array<T | undefined>(Math.max(16, kept.length * 2))
    for (let i = 0; i < kept.length; i++) this.items[i] = kept[i]
    this.head = 0
    this.count = kept.length
  }

  /** Puts an item at `i` places from the front (O(length); for the rare insert out of order). */
  insert(i: number, item: T): void {
    const rest: T[] = []
    while (this.count > i) rest.unshift(this.pop()!)
    this.push(item)
    for (const r of rest) this.push(r)
  }

  private pop(): T | undefined {
    if (this.count === 0) return undefined
    const at = (this.head + this.count - 1) % this.items.length
    const item = this.items[at]
    this.items[at] = undefined
    this.count--
    return item
  }
}
