/**
 * @module
 * Archives: each keeps the events of one bus that its pattern matches. An archive is fed by a
 * managed rule on its bus, `Events-Archive-<name>`, whose pattern is the archive's plus
 * `"replay-name":[{"exists":false}]`, so a replayed event is never archived again. The rule has
 * no targets: ingest sees its `archiveKey` and writes the event's archive row in the same commit
 * as the event (see `engine/ingest.ts`). Old events are purged on the injected clock.
 *
 * Threading: control-plane changes run one at a time through `Registry.exclusive` (the API
 * wraps every changing operation in it); reads may run at any time and see the last committed
 * state.
 */
import { ruleArn } from '../arns.js'
import type { Clock } from '../clock.js'
import type { Registry } from '../engine/registry.js'
import type { Archive, EventBus, Rule, Scope } from '../model.js'
import type { ArchiveStore, ConfigEntry, ConfigOp, ConfigStore } from '../store/ports.js'

/** The principal AWS shows as ManagedBy on an archive's rule. */
export const ARCHIVE_RULE_MANAGER = 'prod.vhs.events.aws.internal'

const DAY_MS = 86_400_000

/** How often retention is applied. */
export const PURGE_INTERVAL_MS = 3_600_000

export const archiveArn = (s: Scope, name: string) =>
  `arn:aws:events:${s.region}:${s.account}:archive/${name}`

export const archiveRuleName = (archiveName: string) => `Events-Archive-${archiveName}`

/** The managed rule's pattern: the archive's (or every event) and never a replayed event. */
export function archiveRulePattern(eventPattern: string | undefined): string {
  const own = eventPattern === undefined ? {} : (JSON.parse(eventPattern) as object)
  return JSON.stringify({ ...own, 'replay-name': [{ exists: false }] })
}

export type ArchivesDeps = {
  registry: Registry
  store: ArchiveStore
  config: ConfigStore
  clock: Clock
  /** Logs a failed purge (the next one tries again). */
  onPurgeError?: (error: unknown) => void
}

export class Archives {
  private readonly archives = new Map<string, Archive>()
  private cancelTimer: (() => void) | undefined

  constructor(private readonly deps: ArchivesDeps) {}

  /** Takes the archives out of the stored configuration (read once at start). */
  load(entries: ConfigEntry[]): void {
    for (const e of entries) if (e.kind === 'archive') this.archives.set(e.key, e.doc as Archive)
  }

  /** An archive another node stored or deleted (see `ConfigStore.watch`). */
  changed(op: ConfigOp): void {
    if (op.kind !== 'archive') return
    if (op.op === 'put') this.archives.set(op.key, op.doc as Archive)
    else this.archives.delete(op.key)
  }

  get(scope: Scope, name: string): Archive | undefined {
    return this.archives.get(archiveArn(scope, name))
  }

  byArn(arn: string): Archive | undefined {
    return this.archives.get(arn)
  }

  /** The caller's archives, by name. */
  list(scope: Scope): Archive[] {
    return [...this.archives.values()]
      .filter((a) => a.account === scope.account && a.region === scope.region)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  stats(archive: Archive) {
    return this.deps.store.stats(archive.key)
  }

  /** Stores the archive and its managed rule in one commit. */
  async create(archive: Archive, bus: EventBus): Promise<void> {
    await this.deps.registry.putRule(this.managedRule(archive, bus), bus, [
      { op: 'put', kind: 'archive', key: archive.arn, doc: archive },
    ])
    this.archives.set(archive.arn, archive)
  }

  /** Stores a changed archive; its rule follows a changed pattern. */
  async update(archive: Archive): Promise<void> {
    const { registry } = this.deps
    const bus = registry.busByArn(archive.sourceArn)
    const doc = { op: 'put' as const, kind: 'archive' as const, key: archive.arn, doc: archive }
    if (bus && registry.rule(archive.ruleArn))
      await registry.putRule(this.managedRule(archive, bus), bus, [doc])
    else await this.deps.config.apply([doc])
    this.archives.set(archive.arn, archive)
  }

  /** Deletes the archive, its managed rule, then its events. */
  async delete(archive: Archive): Promise<void> {
    const { registry } = this.deps
    const doc = { op: 'delete' as const, kind: 'archive' as const, key: archive.arn }
    const rule = registry.rule(archive.ruleArn)
    if (rule) await registry.deleteRule(rule, [doc])
    else await this.deps.config.apply([doc])
    this.archives.delete(archive.arn)
    await this.deps.store.drop(archive.key)
  }

  /** Applies retention now, and then every {@link PURGE_INTERVAL_MS} on the clock. */
  start(): void {
    const tick = () => {
      this.cancelTimer = this.deps.clock.setTimer(PURGE_INTERVAL_MS, tick)
      this.purge().catch((e: unknown) => this.deps.onPurgeError?.(e))
    }
    tick()
  }

  stop(): void {
    this.cancelTimer?.()
    this.cancelTimer = undefined
  }

  /** Forgets, in every archive with a retention, the events archived longer ago than it. */
  async purge(): Promise<void> {
    const now = this.deps.clock.now()
    for (const a of this.archives.values())
      if (a.retentionDays > 0) await this.deps.store.purge(a.key, now - a.retentionDays * DAY_MS)
  }

  private managedRule(archive: Archive, bus: EventBus): Rule {
    const name = archiveRuleName(archive.name)
    return {
      name,
      arn: ruleArn(bus, bus.name, name),
      busName: bus.name,
      account: bus.account,
      region: bus.region,
      eventPattern: archiveRulePattern(archive.eventPattern),
      state: 'ENABLED',
      managedBy: ARCHIVE_RULE_MANAGER,
      createdBy: archive.account,
      archiveKey: archive.key,
    }
  }
}
