/**
 * @module
 * A min-heap of (time, item): the messages of a queue that become visible later, earliest
 * first. Entries are never updated in place; a changed time pushes a new entry and the reader
 * skips the stale one.
 */
import { MinHeap } from '../min-heap.js'

export type Timed<T> = { at: number; item: T }

export class TimerHeap<T> {
  private readonly heap = new MinHeap<Timed<T>>((a, b) => a.at <= b.at)

  get size(): number {
    return this.heap.size
  }

  push(at: number, item: T): void {
    this.heap.push({ at, item })
  }

  /** Keeps only the entries `keep` accepts, and restores the heap order. */
  retain(keep: (item: T, at: number) => boolean): void {
    this.heap.remove((e) => !keep(e.item, e.at))
  }

  peek(): Timed<T> | undefined {
    return this.heap.peek()
  }

  pop(): Timed<T> | undefined {
    return this.heap.pop()
  }
}
