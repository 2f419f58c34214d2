/**
 * @module
 * A bounded, in-memory history of the per-rule counters `/metrics` reports (Prometheus
 * counters: totals since the server started). Each poll adds one point per rule and counter;
 * only the last {@link MAX_POINTS} points are kept, so a console left open for a day holds no
 * more than one left open for five minutes. A chart shows the increase between two points.
 *
 * One writer (the poll) and one reader (the render), both on the page's single thread.
 */
import type { MetricSample } from '../aws/client.js'

/** The counters charted for each rule. */
export const CHARTED = ['TriggeredRules', 'Invocations', 'FailedInvocations'] as const
export type Charted = (typeof CHARTED)[number]

/** Points kept per series: 100 polls, five minutes at one poll every 3 seconds. */
export const MAX_POINTS = 100

export type Point = { time: number; total: number }
export type Increase = { from: number; time: number; value: number }

export class MetricHistory {
  private readonly series = new Map<string, Point[]>()
  private lastTime: number | undefined
  /** The times of the reads kept, oldest first. */
  private readonly reads: number[] = []

  /** Adds one poll's samples, read at `time` (epoch ms). */
  add(time: number, samples: MetricSample[]): void {
    const totals = new Map<string, number>()
    for (const s of samples) {
      if (!(CHARTED as readonly string[]).includes(s.name)) continue
      const bus = s.labels.EventBusName
      const rule = s.labels.RuleName
      if (bus === undefined || rule === undefined) continue
      const k = key(bus, rule, s.name as Charted)
      totals.set(k, (totals.get(k) ?? 0) + s.value)
    }
    // A series seen before and absent now (a counter not yet incremented is not exported) keeps
    // its last total, so the charts stay aligned in time.
    for (const k of new Set([...totals.keys(), ...this.series.keys()])) {
      let points = this.series.get(k)
      if (!points) {
        // A labelled counter is exported from its first increment on: a series that appears
        // after the first poll was 0 at the poll before.
        points = this.lastTime === undefined ? [] : [{ time: this.lastTime, total: 0 }]
        this.series.set(k, points)
      }
      points.push({ time, total: totals.get(k) ?? points.at(-1)?.total ?? 0 })
      if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS)
    }
    this.lastTime = time
    this.reads.push(time)
    if (this.reads.length > MAX_POINTS) this.reads.splice(0, this.reads.length - MAX_POINTS)
  }

  /** When the oldest read kept was made; undefined before the first. */
  get oldest(): number | undefined {
    return this.reads[0]
  }

  /**
   * The increase between consecutive reads, `from` one read's time `time` the next's (a
   * restart's drop counts as 0), oldest first.
   */
  increases(bus: string, rule: string, name: Charted): Increase[] {
    const points = this.series.get(key(bus, rule, name)) ?? []
    const out: Increase[] = []
    for (let i = 1; i < points.length; i++)
      out.push({
        from: points[i - 1]!.time,
        time: points[i]!.time,
        value: Math.max(0, points[i]!.total - points[i - 1]!.total),
      })
    return out
  }

  /** The latest total, or undefined when the server has not reported the series. */
  total(bus: string, rule: string, name: Charted): number | undefined {
    return this.series.get(key(bus, rule, name))?.at(-1)?.total
  }

  /** How many reads are kept (at most {@link MAX_POINTS}). */
  get length(): number {
    return this.reads.length
  }
}

const key = (bus: string, rule: string, name: Charted) => `${bus}\u0000${rule}\u0000${name}`
