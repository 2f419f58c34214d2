/**
 * @module
 * The checks made on a whole plan before anything is created: every resource type has a
 * provisioner, and every property a resource gives is one its provisioner takes. Each problem
 * names the resource, its template line and what is supported; all are reported at once.
 */
import type { CreatedLookup, PlannedResource, Provisioner, StackPlan } from './model.js'
import type { StackResource } from './stack-record.js'

/** A provisioner may say why a CloudFormation property it does not take is refused. */
export type WithReasons = Provisioner & { readonly unsupported?: Readonly<Record<string, string>> }

const at = (r: PlannedResource) => (r.line === undefined ? '' : `line ${String(r.line)}: `)

export function unknownTypeProblem(
  r: PlannedResource,
  provisioners: ReadonlyMap<string, Provisioner>,
): string {
  return `${at(r)}resource ${r.logicalId} has type ${r.type}, which Junction does not support. Supported types: ${[...provisioners.keys()].sort().join(', ')}.`
}

/** The problems with a resource's properties (empty when every one is supported). */
export function propertyProblems(
  r: PlannedResource,
  p: WithReasons,
  props: Record<string, unknown>,
): string[] {
  const known = new Set(p.properties)
  return Object.keys(props)
    .filter((k) => !known.has(k))
    .map((k) => {
      const why = p.unsupported?.[k]
      return `${at(r)}resource ${r.logicalId} (${r.type}) has property ${k}, which Junction does not support${why === undefined ? '' : ` (${why})`}. Supported properties: ${p.properties.join(', ')}.`
    })
}

/**
 * Resolves what a resource not created yet stands for while checking: its logical id as the
 * physical id and a placeholder for every attribute.
 */
function placeholderLookup(existing: ReadonlyMap<string, StackResource>): CreatedLookup {
  return (logicalId) => {
    const had = existing.get(logicalId)
    if (had) return { physicalId: had.physicalId, attributes: had.attributes }
    const attributes = new Proxy<Record<string, unknown>>(
      {},
      {
        get: (_t, key) => (typeof key === 'string' ? `${logicalId}.${key}` : undefined),
        has: () => true,
        getOwnPropertyDescriptor: (_t, key) =>
          typeof key === 'string'
            ? { value: `${logicalId}.${key}`, configurable: true, enumerable: true }
            : undefined,
      },
    )
    return { physicalId: logicalId, attributes }
  }
}

/**
 * Every problem of the plan that can be known before provisioning. Properties whose values
 * need resources that do not exist yet are resolved against placeholders; a resolution that
 * fails on a placeholder is checked again when the resource is reached.
 */
export function planProblems(
  plan: StackPlan,
  provisioners: ReadonlyMap<string, Provisioner>,
  existing: ReadonlyMap<string, StackResource>,
): string[] {
  const problems: string[] = []
  const lookup = placeholderLookup(existing)
  for (const r of plan.resources) {
    const p = provisioners.get(r.type)
    if (!p) {
      problems.push(unknownTypeProblem(r, provisioners))
      continue
    }
    const had = existing.get(r.logicalId)
    if (had && had.type !== r.type)
      problems.push(
        `${at(r)}resource ${r.logicalId} was a ${had.type} and is now a ${r.type}: give the new resource another logical id.`,
      )
    let props: Record<string, unknown>
    try {
      props = plan.properties(r.logicalId, lookup)
    } catch {
      continue
    }
    problems.push(...propertyProblems(r, p, props))
  }
  return problems
}
