/**
 * @module
 * Change-capture sources as configuration (ConfigKind `cdc-source`), keyed
 * `ACCOUNT/REGION/NAME`, held in memory and written through to the config store. A source is
 * created and removed through `/junction/sources` (src/api/sources-route.ts); the runner
 * (src/cdc/runner.ts) listens and starts or stops it. Removing a source also forgets its
 * checkpoint (kind `cdc-checkpoint`, same key) in the same commit, so a source re-added under
 * the same name starts afresh instead of resuming at a position of the old one.
 *
 * Threading: changes run one at a time through `Registry.exclusive` (the route wraps them);
 * reads see the last committed state. Other nodes' changes arrive through `changed`.
 */
import { BusError } from '../errors.js'
import type { Scope } from '../model.js'
import type { ConfigEntry, ConfigOp, ConfigStore } from '../store/ports.js'
import type { OversizePolicy, SourceDefinition, SourceKind } from './model.js'

export const sourceKey = (s: Scope, name: string) => `${s.account}/${s.region}/${name}`

const NAME = /^[A-Za-z0-9_.-]{1,64}$/
const OVERSIZE: readonly OversizePolicy[] = ['drop-before', 'key-only', 'fail']

/** What a caller asks for; the rest of a {@link SourceDefinition} is filled in. */
export type SourceRequest = {
  name?: unknown
  url?: unknown
  busName?: unknown
  publication?: unknown
  slot?: unknown
  serverId?: unknown
  snapshot?: unknown
  detailTypeWithOp?: unknown
  oversize?: unknown
}

/** Told of every source stored or removed, here or on another node. */
export type SourcesListener = (key: string, def: SourceDefinition | undefined) => void

export class Sources {
  private readonly defs = new Map<string, SourceDefinition>()
  private readonly listeners: SourcesListener[] = []

  constructor(private readonly config: ConfigStore) {}

  /** Takes the sources out of the stored configuration (read once at start). */
  load(entries: ConfigEntry[]): void {
    for (const e of entries)
      if (e.kind === 'cdc-source') this.defs.set(e.key, e.doc as SourceDefinition)
  }

  /** A source another node stored or removed (see `ConfigStore.watch`). */
  changed(op: ConfigOp): void {
    if (op.kind !== 'cdc-source') return
    if (op.op === 'put') this.defs.set(op.key, op.doc as SourceDefinition)
    else if (!this.defs.delete(op.key)) return
    this.tell(op.key, op.op === 'put' ? (op.doc as SourceDefinition) : undefined)
  }

  listen(listener: SourcesListener): void {
    this.listeners.push(listener)
  }

  all(): [string, SourceDefinition][] {
    return [...this.defs.entries()]
  }

  get(scope: Scope, name: string): SourceDefinition | undefined {
    return this.defs.get(sourceKey(scope, name))
  }

  /** The caller's sources, by name. */
  list(scope: Scope): SourceDefinition[] {
    return [...this.defs.values()]
      .filter((d) => d.account === scope.account && d.region === scope.region)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Stores a new source (checked with {@link checkSource}); a taken name is refused. */
  async create(def: SourceDefinition): Promise<void> {
    const key = sourceKey(def, def.name)
    if (this.defs.has(key))
      throw new BusError('ResourceAlreadyExistsException', `Source ${def.name} already exists.`)
    await this.config.apply([{ op: 'put', kind: 'cdc-source', key, doc: def }])
    this.defs.set(key, def)
    this.tell(key, def)
  }

  /** Removes the source and its checkpoint in one commit. */
  async remove(scope: Scope, name: string): Promise<SourceDefinition> {
    const key = sourceKey(scope, name)
    const def = this.defs.get(key)
    if (!def) throw notFound(name)
    await this.config.apply([
      { op: 'delete', kind: 'cdc-source', key },
      { op: 'delete', kind: 'cdc-checkpoint', key },
    ])
    this.defs.delete(key)
    this.tell(key, undefined)
    return def
  }

  private tell(key: string, def: SourceDefinition | undefined): void {
    for (const l of this.listeners) l(key, def)
  }
}

export const notFound = (name: string) =>
  new BusError('ResourceNotFoundException', `Source ${name} does not exist.`)

/**
 * A definition from a request, or a ValidationException naming what is wrong. `busExists`
 * tells whether the caller's account and region have the bus.
 */
export function checkSource(
  scope: Scope,
  req: SourceRequest,
  busExists: (name: string) => boolean,
  now: number,
): SourceDefinition {
  const bad = (m: string) => new BusError('ValidationException', m)
  const { name, url, busName } = req
  if (typeof name !== 'string' || !NAME.test(name))
    throw bad('The source name must be 1 to 64 letters, digits, "_", "." or "-".')
  if (typeof url !== 'string' || url === '') throw bad('The source needs a connection URL.')
  const kind = kindOf(url)
  if (!kind)
    throw bad('The URL must start with postgres://, postgresql:// (PostgreSQL) or mysql://.')
  if (typeof busName !== 'string' || busName === '') throw bad('The source needs a bus.')
  if (!busExists(busName))
    throw new BusError('ResourceNotFoundException', `Event bus ${busName} does not exist.`)
  const def: SourceDefinition = {
    name,
    account: scope.account,
    region: scope.region,
    kind,
    url,
    busName,
    snapshot: flag(req.snapshot, 'snapshot'),
    detailTypeWithOp: flag(req.detailTypeWithOp, 'detailTypeWithOp'),
    oversize: 'drop-before',
    createdAt: now,
  }
  if (req.oversize !== undefined) {
    if (!OVERSIZE.includes(req.oversize as OversizePolicy))
      throw bad('oversize must be drop-before, key-only or fail.')
    def.oversize = req.oversize as OversizePolicy
  }
  if (kind === 'postgres') {
    if (typeof req.publication !== 'string' || req.publication === '')
      throw bad('A PostgreSQL source needs a publication (CREATE PUBLICATION … FOR TABLE …).')
    def.publication = req.publication
    if (req.slot !== undefined) {
      if (typeof req.slot !== 'string' || !/^[a-z0-9_]{1,63}$/.test(req.slot))
        throw bad('The slot name must be 1 to 63 lowercase letters, digits or "_".')
      def.slot = req.slot
    }
    if (req.serverId !== undefined) throw bad('serverId is for MySQL sources.')
  } else {
    if (req.publication !== undefined || req.slot !== undefined)
      throw bad('publication and slot are for PostgreSQL sources.')
    if (req.serverId !== undefined) {
      const id = req.serverId
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 4294967295)
        throw bad('serverId must be an integer from 1 to 4294967295.')
      def.serverId = id
    }
  }
  return def
}

function kindOf(url: string): SourceKind | undefined {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres'
  if (/^mysql:\/\//i.test(url)) return 'mysql'
  return undefined
}

function flag(v: unknown, name: string): boolean {
  if (v === undefined) return false
  if (typeof v !== 'boolean')
    throw new BusError('ValidationException', `${name} must be true or false.`)
  return v
}

/** The URL with its password replaced by `****`, for answers and logs. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '****'
    return u.toString()
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1****@')
  }
}
