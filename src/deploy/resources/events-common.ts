/**
 * @module
 * What the EventBridge provisioners share: reading properties, turning an event pattern given
 * as an object into the JSON text the API takes, and replacing a resource whose name changed (as CloudFormation replaces).
 */
import { TemplateError, type ProvisionContext, type ResourceCreated } from '../model.js'
import type { Props } from './resource-props.js'

/** A string property, or undefined; anything else is a template error naming it. */
export function str(ctx: ProvisionContext, props: Props, key: string): string | undefined {
  const v = props[key]
  if (v === undefined) return undefined
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw new TemplateError(`${ctx.logicalId}: property ${key} must be a string.`, ctx.line)
}

export function requiredStr(ctx: ProvisionContext, props: Props, key: string): string {
  const v = str(ctx, props, key)
  if (v === undefined)
    throw new TemplateError(`${ctx.logicalId}: property ${key} is required.`, ctx.line)
  return v
}

export function int(ctx: ProvisionContext, props: Props, key: string): number | undefined {
  const v = props[key]
  if (v === undefined) return undefined
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
  if (typeof n === 'number' && Number.isInteger(n)) return n
  throw new TemplateError(`${ctx.logicalId}: property ${key} must be an integer.`, ctx.line)
}

export function obj(ctx: ProvisionContext, props: Props, key: string): Props | undefined {
  const v = props[key]
  if (v === undefined) return undefined
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Props
  throw new TemplateError(`${ctx.logicalId}: property ${key} must be an object.`, ctx.line)
}

/** An event pattern (or policy) as JSON text: CloudFormation takes an object or a string. */
export function jsonText(ctx: ProvisionContext, props: Props, key: string): string | undefined {
  const v = props[key]
  if (v === undefined) return undefined
  if (typeof v === 'string') return v
  if (v !== null && typeof v === 'object') return JSON.stringify(v)
  throw new TemplateError(
    `${ctx.logicalId}: property ${key} must be a JSON object or a JSON string.`,
    ctx.line,
  )
}

/** `[{Key, Value}]`, as CloudFormation and EventBridge both write tags. */
export function tags(ctx: ProvisionContext, props: Props): { Key: string; Value: string }[] {
  const v = props.Tags
  if (v === undefined) return []
  if (!Array.isArray(v))
    throw new TemplateError(`${ctx.logicalId}: property Tags must be a list.`, ctx.line)
  return v.map((t: unknown) => {
    const tag = t as { Key?: unknown; Value?: unknown } | null
    if (typeof tag?.Key !== 'string' || (typeof tag.Value !== 'string' && tag.Value !== undefined))
      throw new TemplateError(
        `${ctx.logicalId}: each of Tags must be {Key: string, Value: string}.`,
        ctx.line,
      )
    return { Key: tag.Key, Value: tag.Value ?? '' }
  })
}

/** Drops undefined values, so that the SDK sends only what the template gave. */
export function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) Reflect.deleteProperty(o, k)
  return o
}

/**
 * A create made of several calls is all or nothing: when a later call fails, what the first
 * made is deleted (best effort) and the failure is reported as it was.
 */
export async function undoOnFailure(
  step: Promise<unknown>,
  undo: () => Promise<void>,
): Promise<void> {
  try {
    await step
  } catch (e) {
    await undo().catch(() => undefined)
    throw e
  }
}

/**
 * A resource whose identity changed is replaced: the new one is created first, then the old one
 * deleted, as CloudFormation does. Keeps a generated name when the template gives none.
 */
export async function replace(
  create: () => Promise<ResourceCreated>,
  remove: () => Promise<void>,
): Promise<ResourceCreated> {
  const created = await create()
  await remove()
  return created
}

/**
 * The name to use: the template's, else the one the resource already has (a resource without a
 * Name keeps its generated name across updates), else a new generated one.
 */
export function nameOf(
  ctx: ProvisionContext,
  props: Props,
  key: string,
  maxLength: number,
  current?: string,
): string {
  return str(ctx, props, key) ?? current ?? ctx.generatedName(maxLength)
}
