/**
 * @module
 * The functions and event source mappings the Lambda API keeps: in memory, written through to
 * the {@link ConfigStore} (kinds `function` and `event-source-mapping`), loaded once at start.
 * Also the {@link FunctionDirectory} the event side reads: lookups by ARN, the resource policy's
 * answer for an invoker, the mappings and their changes. Functions whose code is a local
 * directory have it watched once {@link Functions.watchLocalCode} is called: a change gives the
 * function a new `CodeSha256` and `RevisionId`, so its instances are replaced.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Scope } from '../model.js'
import type { CodeStore, ConfigEntry, ConfigOp, ConfigStore } from '../store/ports.js'
import { hashDirectory } from './code-dir.js'
import { CodeWatches } from './code-watch.js'
import type { FunctionDirectory, InvokePrincipal } from './directory.js'
import type { EventSourceMapping, FunctionRecord, PolicyStatement } from './model.js'

export const functionArn = (s: Scope, name: string) =>
  `arn:aws:lambda:${s.region}:${s.account}:function:${name}`

export const functionKey = (s: Scope, name: string) => `${s.account}/${s.region}/${name}`

export type LocalCodeOptions = {
  /** The function's record after its directory changed: stop its instances. */
  changed(fn: FunctionRecord): void
  log: Logger
  now(): number
  /** @default 300 */
  debounceMs?: number
}

export class Functions implements FunctionDirectory {
  private watches: CodeWatches | undefined
  /** Per function key: the last directory change being recorded, so they never overlap. */
  private readonly recording = new Map<string, Promise<void>>()
  private readonly functions = new Map<string, FunctionRecord>()
  private readonly byArnMap = new Map<string, FunctionRecord>()
  private readonly esms = new Map<string, EventSourceMapping>()
  private readonly listeners: (() => void)[] = []
  /** Signs GetFunction's `Code.Location`; new at each start, so old locations expire then. */
  private readonly secret = randomBytes(32)

  constructor(
    private readonly store: ConfigStore,
    /** Where packages are unpacked (`functions/` in the data directory). */
    readonly codeRoot: string,
    /** Where packages go for the other nodes (distributed mode); absent with one process. */
    readonly sharedCode?: CodeStore,
  ) {}

  load(entries: ConfigEntry[]): void {
    for (const e of entries) {
      if (e.kind === 'function') this.remember(e.doc as FunctionRecord)
      else if (e.kind === 'event-source-mapping') {
        const m = e.doc as EventSourceMapping
        this.esms.set(m.uuid, m)
      }
    }
  }

  /**
   * A function or event source mapping another node stored or deleted (see
   * `ConfigStore.watch`). Says which function changed or went, for its instances to restart
   * or stop.
   */
  changed(op: ConfigOp): { updated: FunctionRecord } | { removed: string } | undefined {
    if (op.kind === 'event-source-mapping') {
      if (op.op === 'put') this.esms.set(op.key, op.doc as EventSourceMapping)
      else if (!this.esms.delete(op.key)) return undefined
      this.mappingsChanged()
      return undefined
    }
    if (op.kind !== 'function') return undefined
    if (op.op === 'put') {
      const fn = op.doc as FunctionRecord
      this.remember(fn)
      this.syncWatch(fn)
      return { updated: fn }
    }
    const old = this.functions.get(op.key)
    if (!old) return undefined
    this.functions.delete(op.key)
    this.byArnMap.delete(old.arn)
    this.watches?.unwatch(op.key)
    return { removed: old.arn }
  }

  get(scope: Scope, name: string): FunctionRecord | undefined {
    return this.functions.get(functionKey(scope, name))
  }

  byArn(arn: string): FunctionRecord | undefined {
    return this.byArnMap.get(arn.endsWith(':$LATEST') ? arn.slice(0, -':$LATEST'.length) : arn)
  }

  /** The scope's functions, by name. */
  list(scope: Scope): FunctionRecord[] {
    return [...this.functions.values()]
      .filter((f) => f.account === scope.account && f.region === scope.region)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async put(fn: FunctionRecord): Promise<void> {
    await this.store.apply([{ op: 'put', kind: 'function', key: fn.key, doc: fn }])
    this.remember(fn)
    this.syncWatch(fn)
  }

  /**
   * Watches the directories of functions with local code, now and as they are created, changed
   * and deleted. Called once, after {@link Functions.load}; {@link Functions.close} stops it.
   */
  watchLocalCode(options: LocalCodeOptions): void {
    this.watches = new CodeWatches({
      ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
      changed: (key, dir) => {
        const previous = this.recording.get(key) ?? Promise.resolve()
        const next = previous
          .then(() => this.codeChanged(key, dir, options))
          .catch((e: unknown) => {
            options.log.warn({ err: e, dir }, 'could not record a change of local function code')
          })
          .finally(() => {
            if (this.recording.get(key) === next) this.recording.delete(key)
          })
        this.recording.set(key, next)
      },
      failed: (key, dir, error) => {
        options.log.warn(
          { err: error, function: key, dir },
          'local function code is no longer watched',
        )
      },
    })
    for (const fn of this.functions.values()) this.syncWatch(fn)
  }

  /** Stops watching local code (the bus is stopping). */
  close(): void {
    this.watches?.close()
    this.watches = undefined
  }

  private async codeChanged(key: string, dir: string, options: LocalCodeOptions): Promise<void> {
    const before = this.functions.get(key)
    if (!before?.localCode || before.codeDir !== dir) return
    const digest = await hashDirectory(dir)
    // Read again: the function may have been changed or deleted while the files were hashed.
    const fn = this.functions.get(key)
    if (!fn?.localCode || fn.codeDir !== dir) return
    const next: FunctionRecord = {
      ...fn,
      codeSha256: digest.sha256,
      codeSize: digest.size,
      revisionId: randomUUID(),
      lastModified: options.now(),
    }
    await this.put(next)
    options.changed(next)
    options.log.info(
      { function: fn.arn, dir, codeSha256: digest.sha256 },
      `function ${fn.name}: code changed in ${dir}; its instances restart`,
    )
  }

  private syncWatch(fn: FunctionRecord): void {
    if (!this.watches) return
    if (fn.localCode && this.functions.get(fn.key) === fn) this.watches.watch(fn.key, fn.codeDir)
    else this.watches.unwatch(fn.key)
  }

  /**
   * Deletes the function. Its event source mappings stay, as in Lambda (DeleteFunction's
   * documentation: they are deleted with DeleteEventSourceMapping); pollers find no function.
   */
  async delete(fn: FunctionRecord): Promise<void> {
    await this.store.apply([{ op: 'delete', kind: 'function', key: fn.key }])
    this.functions.delete(fn.key)
    this.byArnMap.delete(fn.arn)
    this.watches?.unwatch(fn.key)
  }

  allowsInvoke(fn: FunctionRecord, who: InvokePrincipal): boolean {
    // The function's own account needs no resource policy (its identity policies decide).
    if (who.principal === fn.account) return true
    return fn.policy.some((s) => statementAllows(s, who))
  }

  /** The token in GetFunction's `Code.Location` for one package of one function. */
  codeToken(fn: FunctionRecord, hex: string): string {
    return createHmac('sha256', this.secret).update(`${fn.key}/${hex}`).digest('hex')
  }

  /** The zip a `Code.Location` names, when its token is right and the package is current. */
  codeZip(scope: Scope, name: string, hex: string, token: string): string | undefined {
    const fn = this.get(scope, name)
    if (!fn || Buffer.from(fn.codeSha256, 'base64').toString('hex') !== hex) return undefined
    const expected = Buffer.from(this.codeToken(fn, hex))
    const given = Buffer.from(token)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    return join(this.codeRoot, fn.account, fn.region, fn.name, `${hex}.zip`)
  }

  // ── event source mappings ──────────────────────────────────────────────────

  mappings(): EventSourceMapping[] {
    return [...this.esms.values()]
  }

  mapping(uuid: string): EventSourceMapping | undefined {
    return this.esms.get(uuid)
  }

  async putMapping(m: EventSourceMapping): Promise<void> {
    await this.store.apply([{ op: 'put', kind: 'event-source-mapping', key: m.uuid, doc: m }])
    this.esms.set(m.uuid, m)
    this.mappingsChanged()
  }

  async deleteMapping(m: EventSourceMapping): Promise<void> {
    await this.store.apply([{ op: 'delete', kind: 'event-source-mapping', key: m.uuid }])
    this.esms.delete(m.uuid)
    this.mappingsChanged()
  }

  onMappingsChanged(listener: () => void): void {
    this.listeners.push(listener)
  }

  private mappingsChanged(): void {
    for (const l of this.listeners) l()
  }

  private remember(fn: FunctionRecord): void {
    const old = this.functions.get(fn.key)
    if (old) this.byArnMap.delete(old.arn)
    this.functions.set(fn.key, fn)
    this.byArnMap.set(fn.arn, fn)
  }
}

/** Whether one AddPermission statement lets `who` invoke. */
export function statementAllows(s: PolicyStatement, who: InvokePrincipal): boolean {
  if (s.Action !== 'lambda:InvokeFunction' && s.Action !== 'lambda:*' && s.Action !== '*')
    return false
  if (!principalMatches(s.Principal, who.principal)) return false
  for (const [operator, conditions] of Object.entries(s.Condition ?? {})) {
    for (const [key, expected] of Object.entries(conditions)) {
      const actual = conditionValue(key, who)
      if (actual === undefined) return false
      const ok =
        operator === 'ArnLike'
          ? wildcard(expected).test(actual)
          : operator === 'StringEquals' || operator === 'ArnEquals'
            ? expected === actual
            : operator === 'StringLike'
              ? wildcard(expected).test(actual)
              : false
      if (!ok) return false
    }
  }
  return true
}

function conditionValue(key: string, who: InvokePrincipal): string | undefined {
  switch (key.toLowerCase()) {
    case 'aws:sourcearn':
      return who.sourceArn
    case 'aws:sourceaccount':
      return who.sourceAccount
    default:
      // A condition Junction cannot evaluate does not hold (an unknown key denies).
      return undefined
  }
}

function principalMatches(p: PolicyStatement['Principal'], principal: string): boolean {
  if (p === '*') return true
  if (typeof p === 'string') return p === principal
  if ('Service' in p) return p.Service === principal
  const account = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):root$/.exec(p.AWS)?.[1] ?? p.AWS
  return account === '*' || account === principal
}

/** IAM's `*` and `?` wildcards as an anchored expression. */
function wildcard(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('')
  return new RegExp(`^${body}$`)
}
