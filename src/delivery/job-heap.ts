/**
 * @module
 * The jobs of the delivery window that are not running, earliest first by key (due time, then
 * id), so one timer (for the top) serves them all.
 */
import { MinHeap } from '../min-heap.js'
import { compareJobKeys, type PendingDelivery } from '../store/ports.js'

export class JobHeap<T extends PendingDelivery> extends MinHeap<T> {
  constructor() {
    super((a, b) => compareJobKeys(a.job, b.job) <= 0)
  }
}
