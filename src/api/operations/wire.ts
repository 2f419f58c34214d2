/**
 * @module
 * Small conversions shared by the operations: timestamps (AWS JSON carries epoch seconds), tag
 * lists, and name/ARN resolution with AWS's not-found messages.
 */
import { busNameOf, ruleArn } from '../../arns.js'
import { notFound } from '../../errors.js'
import type { EventBus, Rule, Scope } from '../../model.js'
import type { RequestContext } from '../context.js'
import type { Checker, Input } from '../validate.js'

export const seconds = (ms: number) => ms / 1000

/** Epoch milliseconds from a wire timestamp: epoch seconds (what SDKs send) or an ISO string. */
export function fromTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number') return Math.round(v * 1000)
  if (typeof v === 'string') {
    const n = Number(v)
    if (v.trim() !== '' && Number.isFinite(n)) return Math.round(n * 1000)
    const t = Date.parse(v)
    return Number.isNaN(t) ? undefined : t
  }
  return undefined
}

/** Drops undefined members, so absent fields are omitted from the answer as AWS omits them. */
export function compact<T extends Record<string, unknown>>(o: T): Compact<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Compact<T>
}

/** `T` with members that may be undefined made optional instead. */
export type Compact<T> = {
  [K in keyof T as undefined extends T[K] ? never : K]: T[K]
} & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> }

/** A bus named in a request (name or ARN, default when absent) that must exist. */
export function requireBus(ctx: RequestContext, nameOrArn: string | undefined): EventBus {
  const { scope, name } = busScope(ctx.scope, nameOrArn)
  const bus = ctx.services.registry.bus(scope, name)
  if (!bus) throw notFound(`Event bus ${name} does not exist.`)
  return bus
}

export function busScope(
  scope: Scope,
  nameOrArn: string | undefined,
): { scope: Scope; name: string } {
  if (nameOrArn === undefined) return { scope, name: 'default' }
  const name = busNameOf(nameOrArn)
  if (!nameOrArn.startsWith('arn:')) return { scope, name }
  const parts = nameOrArn.split(':')
  return { scope: { account: parts[4] ?? scope.account, region: parts[3] ?? scope.region }, name }
}

/** A rule that must exist on the bus. */
export function requireRule(ctx: RequestContext, bus: EventBus, name: string): Rule {
  const rule = ctx.services.registry.rule(ruleArn(bus, bus.name, name))
  if (!rule) throw notFound(`Rule ${name} does not exist on EventBus ${bus.name}.`)
  return rule
}

/** `Tags: [{Key, Value}]` with the model's limits. */
export function readTags(
  check: Checker,
  input: Input,
  member: string,
  path: string,
): Record<string, string> | undefined {
  const list = check.list(input, member, path)
  if (!list) return undefined
  const tags: Record<string, string> = {}
  list.forEach((item, i) => {
    const t = (item ?? {}) as Input
    const key = check.string(t, 'Key', `${path}.${String(i + 1)}.member.key`, {
      required: true,
      min: 1,
      max: 128,
    })
    const value = check.string(t, 'Value', `${path}.${String(i + 1)}.member.value`, {
      required: true,
      max: 256,
    })
    if (key !== undefined && value !== undefined) tags[key] = value
  })
  return tags
}

export const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))
