/**
 * @module
 * EventBridge Scheduler's resources: schedules and schedule groups, held in memory and written
 * through to the {@link ConfigStore} (kinds `schedule` and `schedule-group`). The `default`
 * group exists in every account and region without being created and cannot be deleted;
 * deleting another group deletes its schedules (scheduler-cdc-consoles.md §1.1).
 *
 * A schedule deleted by `ActionAfterCompletion: DELETE` is kept as a tombstone (`completedAt`)
 * until its last invocation can no longer be retried (its retry policy's event age), so that
 * deliveries still owed find their target; the API sees it as gone.
 */
import type { Scope } from '../model.js'
import type { ConfigEntry, ConfigOp, ConfigStore } from '../store/ports.js'

export type ScheduleState = 'ENABLED' | 'DISABLED'

export type Schedule = {
  name: string
  group: string
  arn: string
  account: string
  region: string
  expression: string
  /** IANA zone the expression is read in; `UTC` when not given. */
  timeZone: string
  /** Epoch ms; recurring schedules fire no tick before it. */
  startDate?: number
  /** Epoch ms; recurring schedules fire only ticks before it. */
  endDate?: number
  description?: string
  state: ScheduleState
  kmsKeyArn?: string
  flexibleWindow: { mode: 'OFF' | 'FLEXIBLE'; maximumWindowInMinutes?: number }
  actionAfterCompletion: 'NONE' | 'DELETE'
  /** The target in its wire shape, RetryPolicy filled with the defaults (GetSchedule returns it). */
  target: Record<string, unknown>
  createdAt: number
  modifiedAt: number
  /**
   * Ticks at or before this (ms) are never fired: set when the schedule is created, updated or
   * enabled, so that a schedule never fires a time from before it existed in its current form.
   */
  since: number
  /** Set once `ActionAfterCompletion: DELETE` has deleted it (a tombstone, see the module doc). */
  completedAt?: number
}

export type ScheduleGroup = {
  name: string
  arn: string
  account: string
  region: string
  createdAt: number
  modifiedAt: number
  tags?: Record<string, string>
}

export const scheduleArn = (s: Scope, group: string, name: string) =>
  `arn:aws:scheduler:${s.region}:${s.account}:schedule/${group}/${name}`

export const scheduleGroupArn = (s: Scope, name: string) =>
  `arn:aws:scheduler:${s.region}:${s.account}:schedule-group/${name}`

export const DEFAULT_GROUP = 'default'

export class Schedules {
  private readonly schedules = new Map<string, Schedule>()
  private readonly groups = new Map<string, ScheduleGroup>()
  private readonly watchers: ((arn: string, schedule: Schedule | undefined) => void)[] = []

  constructor(
    private readonly store: ConfigStore,
    private readonly now: () => number,
  ) {}

  /** Takes schedules and groups out of the stored configuration (read once at start). */
  load(entries: ConfigEntry[]): void {
    for (const e of entries) {
      if (e.kind === 'schedule') this.schedules.set(e.key, e.doc as Schedule)
      else if (e.kind === 'schedule-group') this.groups.set(e.key, e.doc as ScheduleGroup)
    }
  }

  /** A schedule or group another node stored or deleted (see `ConfigStore.watch`). */
  changed(op: ConfigOp): void {
    if (op.kind === 'schedule-group') {
      if (op.op === 'put') this.groups.set(op.key, op.doc as ScheduleGroup)
      else this.groups.delete(op.key)
      return
    }
    if (op.kind !== 'schedule') return
    const schedule = op.op === 'put' ? (op.doc as Schedule) : undefined
    if (schedule) this.schedules.set(op.key, schedule)
    else if (!this.schedules.delete(op.key)) return
    for (const fn of this.watchers) fn(op.key, schedule)
  }

  /** Calls `fn` after each stored change: the schedule as it now is, or undefined once gone. */
  watch(fn: (arn: string, schedule: Schedule | undefined) => void): void {
    this.watchers.push(fn)
  }

  /** Every schedule, tombstones included (the runner and delivery need them). */
  all(): Schedule[] {
    return [...this.schedules.values()]
  }

  /** A schedule by ARN, tombstones included (for deliveries still owed). */
  byArn(arn: string): Schedule | undefined {
    return this.schedules.get(arn)
  }

  /** A live schedule (not a tombstone). */
  get(scope: Scope, group: string, name: string): Schedule | undefined {
    const s = this.schedules.get(scheduleArn(scope, group, name))
    return s && s.completedAt === undefined ? s : undefined
  }

  list(scope: Scope): Schedule[] {
    return [...this.schedules.values()]
      .filter(
        (s) =>
          s.completedAt === undefined && s.account === scope.account && s.region === scope.region,
      )
      .sort((a, b) => cmp(a.group, b.group) || cmp(a.name, b.name))
  }

  async put(schedule: Schedule): Promise<void> {
    await this.store.apply([{ op: 'put', kind: 'schedule', key: schedule.arn, doc: schedule }])
    this.schedules.set(schedule.arn, schedule)
    this.notify(schedule.arn, schedule)
  }

  async delete(schedule: Schedule): Promise<void> {
    await this.store.apply([{ op: 'delete', kind: 'schedule', key: schedule.arn }])
    this.schedules.delete(schedule.arn)
    this.notify(schedule.arn, undefined)
  }

  /** `ActionAfterCompletion: DELETE`: gone for the API, kept for its deliveries (module doc). */
  async complete(schedule: Schedule): Promise<void> {
    await this.put({ ...schedule, completedAt: this.now() })
  }

  /** Drops tombstones whose deliveries can no longer be retried. */
  async purgeCompleted(): Promise<void> {
    const now = this.now()
    for (const s of [...this.schedules.values()]) {
      if (s.completedAt === undefined) continue
      const policy = s.target.RetryPolicy as { MaximumEventAgeInSeconds?: number } | undefined
      const ageMs = (policy?.MaximumEventAgeInSeconds ?? 86_400) * 1000
      // Replaced meanwhile by a new schedule of the same name: that one stays.
      if (now - s.completedAt > ageMs + 60_000 && this.schedules.get(s.arn) === s)
        await this.delete(s)
    }
  }

  // ── groups ─────────────────────────────────────────────────────────────────

  /** A group by name; `default` exists without being created. */
  group(scope: Scope, name: string): ScheduleGroup | undefined {
    const arn = scheduleGroupArn(scope, name)
    const g = this.groups.get(arn)
    if (g || name !== DEFAULT_GROUP) return g
    // The default group's creation time is not known; the epoch start says so plainly.
    return { name, arn, account: scope.account, region: scope.region, createdAt: 0, modifiedAt: 0 }
  }

  listGroups(scope: Scope): ScheduleGroup[] {
    const own = [...this.groups.values()].filter(
      (g) => g.account === scope.account && g.region === scope.region,
    )
    if (!own.some((g) => g.name === DEFAULT_GROUP)) own.push(this.group(scope, DEFAULT_GROUP)!)
    return own.sort((a, b) => cmp(a.name, b.name))
  }

  async putGroup(group: ScheduleGroup, also: ConfigOp[] = []): Promise<void> {
    await this.store.apply([
      { op: 'put', kind: 'schedule-group', key: group.arn, doc: group },
      ...also,
    ])
    this.groups.set(group.arn, group)
  }

  /** Deletes a group with all its schedules (tombstones too), in one commit. */
  async deleteGroup(group: ScheduleGroup, also: ConfigOp[] = []): Promise<void> {
    const doomed = [...this.schedules.values()].filter(
      (s) => s.account === group.account && s.region === group.region && s.group === group.name,
    )
    await this.store.apply([
      { op: 'delete', kind: 'schedule-group', key: group.arn },
      ...doomed.map((s): ConfigOp => ({ op: 'delete', kind: 'schedule', key: s.arn })),
      ...also,
    ])
    this.groups.delete(group.arn)
    for (const s of doomed) {
      this.schedules.delete(s.arn)
      this.notify(s.arn, undefined)
    }
  }

  private notify(arn: string, schedule: Schedule | undefined): void {
    for (const fn of this.watchers) fn(arn, schedule)
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
