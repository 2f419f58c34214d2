/**
 * @module
 * The control-plane state: buses, rules, targets, tags, connections and API destinations, held
 * in memory and written through to the {@link ConfigStore}. It also keeps one compiled matcher
 * per bus, changed rule by rule as rules are put and deleted (single writer: this class).
 */
import { busArn } from '../arns.js'
import type { ApiDestination, Connection, EventBus, Rule, Scope, Target } from '../model.js'
import { createMatcher, type Matcher } from '../pattern/index.js'
import type { ConfigOp, ConfigStore } from '../store/ports.js'

type BusIndex = { matcher: Matcher; rules: Map<string, Rule> }

export class Registry {
  private readonly buses = new Map<string, EventBus>()
  private readonly rules = new Map<string, Rule>()
  private readonly targets = new Map<string, Target[]>()
  private readonly tags = new Map<string, Record<string, string>>()
  private readonly connections = new Map<string, Connection>()
  private readonly destinations = new Map<string, ApiDestination>()
  private readonly index = new Map<string, BusIndex>()
  private readonly ruleWatchers: ((arn: string, rule: Rule | undefined) => void)[] = []
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly store: ConfigStore,
    private readonly now: () => number,
  ) {}

  static async load(store: ConfigStore, now: () => number): Promise<Registry> {
    const r = new Registry(store, now)
    for (const e of await store.load()) {
      switch (e.kind) {
        case 'bus':
          r.buses.set(e.key, e.doc as EventBus)
          break
        case 'rule':
          r.rules.set(e.key, e.doc as Rule)
          r.indexRule(e.doc as Rule)
          break
        case 'targets':
          r.targets.set(e.key, e.doc as Target[])
          break
        case 'tags':
          r.tags.set(e.key, e.doc as Record<string, string>)
          break
        case 'connection':
          r.connections.set(e.key, e.doc as Connection)
          break
        case 'api-destination':
          r.destinations.set(e.key, e.doc as ApiDestination)
          break
        case 'archive':
        case 'replay':
          break // read by archive/ (Archives, Replays)
        case 'schedule':
        case 'schedule-group':
          break // read by schedule/schedules.ts
        case 'function':
        case 'event-source-mapping':
          break // read by functions/functions.ts
        case 'stack':
          break // read by deploy/stack-store.ts
        case 'sink':
          break // read by sink/sinks.ts
        case 'cdc-source':
        case 'cdc-checkpoint':
          break // read by cdc/ (Sources, the runner)
      }
    }
    return r
  }

  /**
   * Runs control-plane changes one at a time. An operation reads the current state, decides and
   * writes; the write commits on another thread, so without this two requests could both read
   * the old state and one change would be lost (two PutTargets on one rule, say).
   */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /**
   * A change another node stored (see `ConfigStore.watch`): taken into memory as this node's own
   * writes are, without writing it again. Idempotent: a delete of what is gone changes nothing.
   */
  changed(op: ConfigOp): void {
    const put = op.op === 'put'
    switch (op.kind) {
      case 'bus':
        if (put) this.buses.set(op.key, op.doc as EventBus)
        else this.buses.delete(op.key)
        return
      case 'rule': {
        const old = this.rules.get(op.key)
        if (old) this.unindexRule(old)
        if (put) {
          const rule = op.doc as Rule
          this.rules.set(op.key, rule)
          this.indexRule(rule)
          for (const fn of this.ruleWatchers) fn(op.key, rule)
        } else if (old) {
          this.rules.delete(op.key)
          for (const fn of this.ruleWatchers) fn(op.key, undefined)
        }
        return
      }
      case 'targets':
        if (put) this.targets.set(op.key, op.doc as Target[])
        else this.targets.delete(op.key)
        return
      case 'tags':
        if (put) this.tags.set(op.key, op.doc as Record<string, string>)
        else this.tags.delete(op.key)
        return
      case 'connection':
        if (put) this.connections.set(op.key, op.doc as Connection)
        else this.connections.delete(op.key)
        return
      case 'api-destination':
        if (put) this.destinations.set(op.key, op.doc as ApiDestination)
        else this.destinations.delete(op.key)
        return
      default:
        return // other kinds belong to archive/, schedule/, functions/, deploy/
    }
  }

  // ── buses ──────────────────────────────────────────────────────────────────

  /** A bus by name; `default` exists in every account and region without being created. */
  bus(scope: Scope, name: string): EventBus | undefined {
    const arn = busArn(scope, name)
    const bus = this.buses.get(arn)
    if (bus || name !== 'default') return bus
    const t = this.now()
    const created: EventBus = {
      name,
      arn,
      account: scope.account,
      region: scope.region,
      createdAt: t,
      modifiedAt: t,
    }
    // Remember it (in memory) so its creation time stays stable; it is stored when first changed.
    this.buses.set(arn, created)
    return created
  }

  busByArn(arn: string): EventBus | undefined {
    return this.buses.get(arn)
  }

  listBuses(scope: Scope): EventBus[] {
    this.bus(scope, 'default')
    return [...this.buses.values()]
      .filter((b) => b.account === scope.account && b.region === scope.region)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async putBus(bus: EventBus): Promise<void> {
    await this.store.apply([{ op: 'put', kind: 'bus', key: bus.arn, doc: bus }])
    this.buses.set(bus.arn, bus)
  }

  /** Deletes a bus with its rules, their targets and tags. */
  async deleteBus(bus: EventBus): Promise<void> {
    const rules = this.rulesOf(bus.arn)
    const ops: ConfigOp[] = [
      { op: 'delete', kind: 'bus', key: bus.arn },
      { op: 'delete', kind: 'tags', key: bus.arn },
    ]
    for (const r of rules) ops.push(...this.ruleDeletion(r.arn))
    await this.store.apply(ops)
    this.buses.delete(bus.arn)
    this.tags.delete(bus.arn)
    for (const r of rules) this.forgetRule(r)
    this.index.delete(bus.arn)
  }

  // ── rules ──────────────────────────────────────────────────────────────────

  rule(arn: string): Rule | undefined {
    return this.rules.get(arn)
  }

  /** Every rule with a schedule expression, enabled or not. */
  scheduledRules(): Rule[] {
    return [...this.rules.values()].filter((r) => r.scheduleExpression !== undefined)
  }

  /** Calls `fn` after each rule change is stored: the rule as it now is, or undefined once deleted. */
  watchRules(fn: (arn: string, rule: Rule | undefined) => void): void {
    this.ruleWatchers.push(fn)
  }

  /** Rules of a bus, by name. */
  rulesOf(busArnValue: string): Rule[] {
    const idx = this.index.get(busArnValue)
    return idx
      ? [...idx.rules.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      : []
  }

  /**
   * Stores a rule (new or replaced); throws PatternError before storing if its pattern is invalid.
   * `also` commits with it (an archive with its managed rule).
   */
  async putRule(rule: Rule, bus: EventBus, also: ConfigOp[] = []): Promise<void> {
    const ops: ConfigOp[] = [{ op: 'put', kind: 'rule', key: rule.arn, doc: rule }, ...also]
    if (bus.name === 'default') {
      // The implicit default bus is stored when a rule first depends on it (as it is now in
      // memory, which may hold a policy newer than the caller's copy).
      const current = this.buses.get(bus.arn) ?? bus
      ops.unshift({ op: 'put', kind: 'bus', key: bus.arn, doc: current })
    }
    await this.store.apply(ops)
    const old = this.rules.get(rule.arn)
    if (old) this.unindexRule(old)
    this.rules.set(rule.arn, rule)
    this.indexRule(rule)
    for (const fn of this.ruleWatchers) fn(rule.arn, rule)
  }

  async deleteRule(rule: Rule, also: ConfigOp[] = []): Promise<void> {
    await this.store.apply([...this.ruleDeletion(rule.arn), ...also])
    this.forgetRule(rule)
  }

  /** Enabled rules of the bus whose pattern matches the event (the parsed envelope). */
  match(busArnValue: string, envelope: object): Rule[] {
    const idx = this.index.get(busArnValue)
    if (!idx || idx.matcher.size === 0) return []
    const out: Rule[] = []
    for (const arn of idx.matcher.matches(envelope)) {
      const r = idx.rules.get(arn)
      if (r) out.push(r)
    }
    return out
  }

  private ruleDeletion(arn: string): ConfigOp[] {
    return [
      { op: 'delete', kind: 'rule', key: arn },
      { op: 'delete', kind: 'targets', key: arn },
      { op: 'delete', kind: 'tags', key: arn },
    ]
  }

  private forgetRule(rule: Rule): void {
    this.unindexRule(rule)
    this.rules.delete(rule.arn)
    this.targets.delete(rule.arn)
    this.tags.delete(rule.arn)
    for (const fn of this.ruleWatchers) fn(rule.arn, undefined)
  }

  private indexRule(rule: Rule): void {
    const arn = busArn(rule, rule.busName)
    let idx = this.index.get(arn)
    if (!idx) {
      idx = { matcher: createMatcher(), rules: new Map() }
      this.index.set(arn, idx)
    }
    idx.rules.set(rule.arn, rule)
    if (rule.eventPattern !== undefined && rule.state !== 'DISABLED')
      idx.matcher.add(rule.arn, rule.eventPattern)
  }

  private unindexRule(rule: Rule): void {
    const idx = this.index.get(busArn(rule, rule.busName))
    if (!idx) return
    idx.rules.delete(rule.arn)
    idx.matcher.remove(rule.arn)
  }

  // ── targets ────────────────────────────────────────────────────────────────

  targetsOf(ruleArnValue: string): Target[] {
    return this.targets.get(ruleArnValue) ?? []
  }

  target(ruleArnValue: string, id: string): Target | undefined {
    return this.targets.get(ruleArnValue)?.find((t) => t.id === id)
  }

  async setTargets(ruleArnValue: string, targets: Target[]): Promise<void> {
    await this.store.apply([
      targets.length === 0
        ? { op: 'delete', kind: 'targets', key: ruleArnValue }
        : { op: 'put', kind: 'targets', key: ruleArnValue, doc: targets },
    ])
    if (targets.length === 0) this.targets.delete(ruleArnValue)
    else this.targets.set(ruleArnValue, targets)
  }

  /** Rule ARNs on a bus that have a target with this ARN. */
  rulesTargeting(busArnValue: string, targetArn: string): Rule[] {
    return this.rulesOf(busArnValue).filter((r) =>
      this.targetsOf(r.arn).some((t) => t.arn === targetArn),
    )
  }

  // ── tags ───────────────────────────────────────────────────────────────────

  tagsOf(arn: string): Record<string, string> {
    return this.tags.get(arn) ?? {}
  }

  async setTags(arn: string, tags: Record<string, string>): Promise<void> {
    const empty = Object.keys(tags).length === 0
    await this.store.apply([
      empty
        ? { op: 'delete', kind: 'tags', key: arn }
        : { op: 'put', kind: 'tags', key: arn, doc: tags },
    ])
    if (empty) this.tags.delete(arn)
    else this.tags.set(arn, tags)
  }

  // ── connections and API destinations ───────────────────────────────────────

  connection(arn: string): Connection | undefined {
    return this.connections.get(arn)
  }

  connectionByName(scope: Scope, name: string): Connection | undefined {
    for (const c of this.connections.values())
      if (c.name === name && c.account === scope.account && c.region === scope.region) return c
    return undefined
  }

  listConnections(scope: Scope): Connection[] {
    return [...this.connections.values()]
      .filter((c) => c.account === scope.account && c.region === scope.region)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  async putConnection(c: Connection): Promise<void> {
    await this.store.apply([{ op: 'put', kind: 'connection', key: c.arn, doc: c }])
    this.connections.set(c.arn, c)
  }

  async deleteConnection(c: Connection): Promise<void> {
    await this.store.apply([{ op: 'delete', kind: 'connection', key: c.arn }])
    this.connections.delete(c.arn)
  }

  apiDestination(arn: string): ApiDestination | undefined {
    return this.destinations.get(arn)
  }

  apiDestinationByName(scope: Scope, name: string): ApiDestination | undefined {
    for (const d of this.destinations.values())
      if (d.name === name && d.account === scope.account && d.region === scope.region) return d
    return undefined
  }

  listApiDestinations(scope: Scope): ApiDestination[] {
    return [...this.destinations.values()]
      .filter((d) => d.account === scope.account && d.region === scope.region)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  async putApiDestination(d: ApiDestination): Promise<void> {
    await this.store.apply([{ op: 'put', kind: 'api-destination', key: d.arn, doc: d }])
    this.destinations.set(d.arn, d)
  }

  async deleteApiDestination(d: ApiDestination): Promise<void> {
    await this.store.apply([{ op: 'delete', kind: 'api-destination', key: d.arn }])
    this.destinations.delete(d.arn)
  }
}
