/**
 * @module
 * The Conditions section, decided once per plan: each condition is evaluated on first use (in
 * another condition, a resource's or output's Condition, or Fn::If) and remembered; a condition
 * that needs itself is an error naming the chain.
 */
import { TemplateError } from '../model.js'
import { resolve, type Scope } from './intrinsics.js'
import type { Lines } from './parse.js'

export type ConditionLookup = (name: string, line: number | undefined) => boolean

/**
 * Returns the lookup every later evaluation uses. `base` resolves Refs (parameters and pseudo
 * parameters only: resources have no value while conditions are decided).
 */
export function decideConditions(
  defs: Record<string, unknown>,
  base: Omit<Scope, 'condition' | 'inConditions'>,
  lines: Lines,
): ConditionLookup {
  const decided = new Map<string, boolean>()
  const deciding: string[] = []
  const lookup: ConditionLookup = (name, line) => {
    const known = decided.get(name)
    if (known !== undefined) return known
    if (!Object.hasOwn(defs, name)) {
      throw new TemplateError(
        `Template error: unresolved condition dependency ${name}; the conditions are [${Object.keys(defs).join(', ')}]`,
        line,
      )
    }
    const defLine = lines.key(defs, name)
    if (deciding.includes(name)) {
      throw new TemplateError(
        `Template error: circular dependency between conditions: [${[...deciding, name].join(' -> ')}]`,
        defLine,
      )
    }
    deciding.push(name)
    const value = resolve(defs[name], { ...base, condition: lookup, inConditions: true }, defLine)
    deciding.pop()
    if (typeof value !== 'boolean') {
      throw new TemplateError(
        `Template format error: Conditions can only be boolean operations on parameters and other conditions (${name})`,
        defLine,
      )
    }
    decided.set(name, value)
    return value
  }
  for (const name of Object.keys(defs)) lookup(name, lines.key(defs, name))
  return lookup
}
