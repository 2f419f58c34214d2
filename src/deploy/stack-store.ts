/**
 * @module
 * The server's stack records (ConfigKind `stack`), held in memory and written through to the
 * config store, keyed `ACCOUNT/REGION/NAME`. Only `/junction/stacks` changes them; each change
 * runs inside `Registry.exclusive`, so there is one writer at a time; reads see the last write.
 */
import type { Scope } from '../model.js'
import type { ConfigEntry, ConfigOp, ConfigStore } from '../store/ports.js'
import type { StackRecord } from './stack-record.js'

const keyOf = (scope: Scope, name: string) => `${scope.account}/${scope.region}/${name}`

export class Stacks {
  private readonly records = new Map<string, StackRecord>()

  constructor(private readonly config: ConfigStore) {}

  /** Takes the stacks out of the stored configuration (read once at start). */
  load(entries: ConfigEntry[]): void {
    for (const e of entries) if (e.kind === 'stack') this.records.set(e.key, e.doc as StackRecord)
  }

  /** A stack record another node stored or deleted (see `ConfigStore.watch`). */
  changed(op: ConfigOp): void {
    if (op.kind !== 'stack') return
    if (op.op === 'put') this.records.set(op.key, op.doc as StackRecord)
    else this.records.delete(op.key)
  }

  get(scope: Scope, name: string): StackRecord | undefined {
    return this.records.get(keyOf(scope, name))
  }

  /** The account's stacks in the region, by name. */
  list(scope: Scope): StackRecord[] {
    const prefix = `${scope.account}/${scope.region}/`
    return [...this.records.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, r]) => r)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async put(scope: Scope, record: StackRecord): Promise<void> {
    const key = keyOf(scope, record.name)
    await this.config.apply([{ op: 'put', kind: 'stack', key, doc: record }])
    this.records.set(key, record)
  }

  async delete(scope: Scope, name: string): Promise<boolean> {
    const key = keyOf(scope, name)
    if (!this.records.has(key)) return false
    await this.config.apply([{ op: 'delete', kind: 'stack', key }])
    this.records.delete(key)
    return true
  }
}
