/**
 * @module
 * Which resources a value refers to (Ref, Fn::GetAtt, Fn::Sub; only the branch of Fn::If its
 * condition picks), checked at plan time so a dangling name fails before anything is created;
 * and the creation order: every resource after those it depends on, otherwise template order.
 */
import { TemplateError } from '../model.js'
import type { ConditionLookup } from './conditions.js'
import { getAttParts, subNames, subParts, SUPPORTED_FUNCTIONS, unsupported } from './intrinsics.js'
import { splitGetAtt, type Lines } from './parse.js'
import { isRecord } from './template.js'

export type References = {
  lines: Lines
  condition: ConditionLookup
  /** Called for each name a Ref, Fn::GetAtt or Fn::Sub uses; `attribute` for Fn::GetAtt. */
  visit(name: string, attribute: string | undefined, line: number | undefined): void
}

/** Walks `value` calling `refs.visit` for every name it refers to. */
export function walkReferences(value: unknown, refs: References, line?: number): void {
  if (Array.isArray(value)) {
    const at = refs.lines.of(value) ?? line
    for (const item of value) walkReferences(item, refs, at)
    return
  }
  if (!isRecord(value)) return
  const at = refs.lines.of(value) ?? line
  const keys = Object.keys(value)
  const only = keys.length === 1 ? keys[0] : undefined
  if (only !== undefined && walkFunction(only, value[only], refs, at)) return
  for (const k of keys) walkReferences(value[k], refs, refs.lines.key(value, k) ?? at)
}

/** Handles a one-key mapping that is an intrinsic function; false when it is not one. */
function walkFunction(
  name: string,
  arg: unknown,
  refs: References,
  line: number | undefined,
): boolean {
  switch (name) {
    case 'Ref':
      if (typeof arg === 'string' && arg !== 'AWS::NoValue') refs.visit(arg, undefined, line)
      return true
    case 'Fn::GetAtt': {
      const [resource, attribute] = getAttParts(arg, line)
      refs.visit(resource, typeof attribute === 'string' ? attribute : '', line)
      if (typeof attribute !== 'string') walkReferences(attribute, refs, line)
      return true
    }
    case 'Fn::Sub': {
      const [template, vars] = subParts(arg, line)
      for (const n of subNames(template, line)) {
        if (Object.hasOwn(vars, n)) continue
        const [resource, attribute] = splitGetAtt(n)
        refs.visit(resource ?? n, attribute, line)
      }
      walkReferences(vars, refs, line)
      return true
    }
    case 'Fn::If': {
      if (Array.isArray(arg) && arg.length === 3 && typeof arg[0] === 'string') {
        walkReferences(refs.condition(arg[0], line) ? arg[1] : arg[2], refs, line)
        return true
      }
      return false
    }
    default:
      if (name.startsWith('Fn::') && !SUPPORTED_FUNCTIONS.includes(name)) unsupported(name, line)
      return false
  }
}

type Node = { logicalId: string; dependsOn: string[] }

/** Orders `nodes` so each comes after its dependencies; among ready ones the earliest first. */
export function creationOrder<T extends Node>(nodes: T[]): T[] {
  const index = new Map(nodes.map((n, i) => [n.logicalId, i]))
  const waiting = nodes.map((n) => new Set(n.dependsOn.filter((d) => d !== n.logicalId)))
  const selfLoop = nodes.find((n) => n.dependsOn.includes(n.logicalId))
  if (selfLoop !== undefined) cycleError([selfLoop.logicalId, selfLoop.logicalId])
  const done = new Set<string>()
  const order: T[] = []
  while (order.length < nodes.length) {
    const next = nodes.findIndex(
      (n, i) => !done.has(n.logicalId) && [...(waiting[i] ?? [])].every((d) => done.has(d)),
    )
    if (next < 0)
      cycleError(
        findCycle(
          nodes.filter((n) => !done.has(n.logicalId)),
          index,
        ),
      )
    const node = nodes[next]!
    done.add(node.logicalId)
    order.push(node)
  }
  return order
}

function findCycle(remaining: Node[], index: Map<string, number>): string[] {
  const byId = new Map(remaining.map((n) => [n.logicalId, n]))
  const path: string[] = []
  let current = remaining[0]
  while (current !== undefined && !path.includes(current.logicalId)) {
    path.push(current.logicalId)
    const nextId: string | undefined = current.dependsOn.find((d) => byId.has(d))
    current = nextId === undefined ? undefined : byId.get(nextId)
  }
  if (current === undefined) return path.sort((a, b) => (index.get(a) ?? 0) - (index.get(b) ?? 0))
  return [...path.slice(path.indexOf(current.logicalId)), current.logicalId]
}

function cycleError(cycle: string[]): never {
  const members = [...new Set(cycle)]
  throw new TemplateError(
    `Circular dependency between resources: [${members.join(', ')}] (${cycle.join(' -> ')})`,
  )
}
