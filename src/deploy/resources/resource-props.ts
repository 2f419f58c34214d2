/**
 * @module
 * Reading a resource's resolved Properties for the SQS, Lambda, Scheduler and IAM provisioners.
 * CloudFormation accepts numbers and booleans written as strings (`"30"`, `"true"`), so these
 * readers do too; a value of the wrong type is a {@link TemplateError} naming the resource, its
 * type, the property and the template line.
 */
import { isDeepStrictEqual } from 'node:util'
import { TemplateError, type ProvisionContext } from '../model.js'

export type Props = Record<string, unknown>

/**
 * Typed access to one resource's properties.
 * @example
 * const p = new PropReader(ctx, 'AWS::SQS::Queue', props)
 * const delay = p.number('DelaySeconds') // 5 for `DelaySeconds: "5"`
 */
export class PropReader {
  constructor(
    readonly ctx: ProvisionContext,
    readonly type: string,
    readonly props: Props,
  ) {}

  error(message: string): TemplateError {
    return new TemplateError(`${this.ctx.logicalId} (${this.type}): ${message}`, this.ctx.line)
  }

  has(name: string): boolean {
    return this.props[name] !== undefined && this.props[name] !== null
  }

  required(name: string): unknown {
    if (!this.has(name)) throw this.error(`the property ${name} is required`)
    return this.props[name]
  }

  string(name: string): string | undefined {
    const v = this.props[name]
    if (v === undefined || v === null) return undefined
    if (typeof v === 'string') return v
    if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    throw this.error(`${name} must be a string, not ${JSON.stringify(v)}`)
  }

  requiredString(name: string): string {
    this.required(name)
    return this.string(name)!
  }

  number(name: string): number | undefined {
    return toNumber(this, name, this.props[name])
  }

  boolean(name: string): boolean | undefined {
    const v = this.props[name]
    if (v === undefined || v === null) return undefined
    if (typeof v === 'boolean') return v
    if (v === 'true' || v === 'false') return v === 'true'
    throw this.error(`${name} must be true or false, not ${JSON.stringify(v)}`)
  }

  object(name: string): Props | undefined {
    const v = this.props[name]
    if (v === undefined || v === null) return undefined
    if (typeof v === 'object' && !Array.isArray(v)) return v as Props
    throw this.error(`${name} must be an object, not ${JSON.stringify(v)}`)
  }

  list(name: string): unknown[] | undefined {
    const v = this.props[name]
    if (v === undefined || v === null) return undefined
    if (Array.isArray(v)) return v as unknown[]
    throw this.error(`${name} must be a list, not ${JSON.stringify(v)}`)
  }

  stringList(name: string): string[] | undefined {
    const l = this.list(name)
    if (l === undefined) return undefined
    return l.map((v, i) => {
      if (typeof v !== 'string') throw this.error(`${name}[${String(i)}] must be a string`)
      return v
    })
  }

  /** A policy document: an object, or a JSON string (as CloudFormation's `Json` type allows). */
  json(name: string): string | undefined {
    const v = this.props[name]
    if (v === undefined || v === null) return undefined
    if (typeof v === 'string') {
      try {
        JSON.parse(v)
      } catch {
        throw this.error(`${name} is not valid JSON`)
      }
      return v
    }
    if (typeof v === 'object') return JSON.stringify(v)
    throw this.error(`${name} must be an object or a JSON string`)
  }

  /** CloudFormation `Tags: [{Key, Value}]` as a record. */
  tags(name = 'Tags'): Record<string, string> {
    const l = this.list(name) ?? []
    const out: Record<string, string> = {}
    for (const [i, t] of l.entries()) {
      const tag = t as { Key?: unknown; Value?: unknown } | null
      if (!tag || typeof tag.Key !== 'string')
        throw this.error(`${name}[${String(i)}] must be {Key, Value}`)
      const v = tag.Value
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
        throw this.error(`${name}[${String(i)}].Value must be a string`)
      out[tag.Key] = String(v)
    }
    return out
  }

  /** A property Junction does not support: refused when given, naming it and why. */
  refuse(name: string, why: string): void {
    if (this.has(name)) throw this.error(`${name} is not supported: ${why}`)
  }
}

export function toNumber(r: PropReader, name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  throw r.error(`${name} must be a number, not ${JSON.stringify(v)}`)
}

/** Whether any of `names` differs between two property sets. */
export function changed(before: Props, after: Props, names: readonly string[]): boolean {
  return names.some((n) => !isDeepStrictEqual(before[n], after[n]))
}

/** Whether an SDK error is the service saying the thing does not exist. */
export function isNotFound(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? ''
  return (
    name === 'ResourceNotFoundException' ||
    name === 'QueueDoesNotExist' ||
    name === 'AWS.SimpleQueueService.NonExistentQueue' ||
    name === 'NotFoundException'
  )
}

/** Deletes, ignoring "not found": a resource already gone is not an error. */
export async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p
  } catch (e) {
    if (!isNotFound(e)) throw e
  }
}

/** `f()` as a promise: what it throws becomes a rejection (for provisioners with no calls). */
export function settle<T>(f: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(f())
  })
}
