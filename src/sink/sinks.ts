/**
 * @module
 * The server's sinks (ConfigKind `sink`), held in memory and written through to the config
 * store, keyed `ACCOUNT/REGION/NAME`. Only `/junction/sinks` changes them, each change inside
 * `Registry.exclusive`, so there is one writer at a time; reads see the last write. A sink
 * removed or replaced (here or, through `changed`, on another node) has its pool closed.
 */
import type { Scope } from '../model.js'
import type { ConfigEntry, ConfigOp, ConfigStore } from '../store/ports.js'
import type { SinkDefinition } from './model.js'

const keyOf = (scope: Scope, name: string) => `${scope.account}/${scope.region}/${name}`

export class Sinks {
  private readonly defs = new Map<string, SinkDefinition>()
  private readonly byArns = new Map<string, SinkDefinition>()

  constructor(
    private readonly config: ConfigStore,
    /** A sink's definition is gone or changed: what was opened for it closes. */
    private readonly onGone: (arn: string) => void = () => undefined,
  ) {}

  /** Takes the sinks out of the stored configuration (read once at start). */
  load(entries: ConfigEntry[]): void {
    for (const e of entries) if (e.kind === 'sink') this.set(e.key, e.doc as SinkDefinition)
  }

  /** A sink another node stored or deleted (see `ConfigStore.watch`). */
  changed(op: ConfigOp): void {
    if (op.kind !== 'sink') return
    if (op.op === 'put') this.set(op.key, op.doc as SinkDefinition)
    else this.remove(op.key)
  }

  get(scope: Scope, name: string): SinkDefinition | undefined {
    return this.defs.get(keyOf(scope, name))
  }

  byArn(arn: string): SinkDefinition | undefined {
    return this.byArns.get(arn)
  }

  /** The account's sinks in the region, by name. */
  list(scope: Scope): SinkDefinition[] {
    const prefix = `${scope.account}/${scope.region}/`
    return [...this.defs.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, d]) => d)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async put(def: SinkDefinition): Promise<void> {
    const key = keyOf(def, def.name)
    await this.config.apply([{ op: 'put', kind: 'sink', key, doc: def }])
    this.set(key, def)
  }

  async delete(scope: Scope, name: string): Promise<boolean> {
    const key = keyOf(scope, name)
    if (!this.defs.has(key)) return false
    await this.config.apply([{ op: 'delete', kind: 'sink', key }])
    this.remove(key)
    return true
  }

  private set(key: string, def: SinkDefinition): void {
    const old = this.defs.get(key)
    this.defs.set(key, def)
    this.byArns.set(def.arn, def)
    if (old) this.onGone(old.arn)
  }

  private remove(key: string): void {
    const old = this.defs.get(key)
    if (!old) return
    this.defs.delete(key)
    this.byArns.delete(old.arn)
    this.onGone(old.arn)
  }
}
