/**
 * @module
 * Service B's state: per-widget and per-warehouse aggregates (events seen, total weight) of the
 * valid widget events. Delivery is at least once, so an event seen before (by its id) is not
 * counted again.
 */

export type Tally = { count: number; totalWeight: number }
export type WidgetTally = Tally & { warehouse: string; lastSeen: string }

export type Snapshot = {
  events: number
  totalWeight: number
  warehouses: Record<string, Tally>
  widgets: Record<string, WidgetTally>
  updatedAt: string | null
}

type WidgetEvent = {
  id: string
  detail: { widget_id: string; warehouse: string; weight: number; time: string }
}

export class Aggregates {
  private readonly seen = new Set<string>()
  private readonly warehouses = new Map<string, Tally>()
  private readonly widgets = new Map<string, WidgetTally>()
  private events = 0
  private totalWeight = 0
  private updatedAt: string | null = null

  /** Counts one event (the EventBridge envelope); false when it was counted before. */
  add(event: WidgetEvent): boolean {
    if (this.seen.has(event.id)) return false
    this.seen.add(event.id)
    const { widget_id, warehouse, weight, time } = event.detail
    this.events += 1
    this.totalWeight += weight
    const house = this.warehouses.get(warehouse) ?? { count: 0, totalWeight: 0 }
    house.count += 1
    house.totalWeight += weight
    this.warehouses.set(warehouse, house)
    const widget = this.widgets.get(widget_id) ?? {
      count: 0,
      totalWeight: 0,
      warehouse,
      lastSeen: time,
    }
    widget.count += 1
    widget.totalWeight += weight
    widget.warehouse = warehouse
    widget.lastSeen = time
    this.widgets.set(widget_id, widget)
    this.updatedAt = new Date().toISOString()
    return true
  }

  snapshot(): Snapshot {
    const round = (t: Tally) => ({ ...t, totalWeight: Math.round(t.totalWeight * 100) / 100 })
    return {
      events: this.events,
      totalWeight: Math.round(this.totalWeight * 100) / 100,
      warehouses: Object.fromEntries(
        [...this.warehouses].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, round(v)]),
      ),
      widgets: Object.fromEntries(
        [...this.widgets]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, round(v) as WidgetTally]),
      ),
      updatedAt: this.updatedAt,
    }
  }
}
