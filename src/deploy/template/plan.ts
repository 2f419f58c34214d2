/**
 * @module
 * A loaded template and its parameters to a {@link StackPlan}: parameters bound, conditions
 * decided, every name a resource or output refers to checked, resources ordered for creation.
 * Properties and outputs are evaluated later, against what has been created by then.
 */
import {
  TemplateError,
  type CreatedLookup,
  type PlannedResource,
  type StackOutput,
  type StackPlan,
} from '../model.js'
import { decideConditions, type ConditionLookup } from './conditions.js'
import { creationOrder, walkReferences } from './dependencies.js'
import { resolve, type Scope } from './intrinsics.js'
import { bindParameters } from './parameters.js'
import { pseudoParameters } from './pseudo.js'
import { isRecord, type ResourceDecl, type Template } from './template.js'

export type PlanOptions = {
  parameters: Record<string, string>
  stackName: string
  account: string
  region: string
}

/**
 * The plan, plus where each property was written: for errors about one property (an unsupported
 * one, say) to name its own line rather than the resource's.
 */
export interface TemplatePlan extends StackPlan {
  /** The line of `Properties.<name>` of the resource, else the resource's line. */
  propertyLine(logicalId: string, name: string): number | undefined
}

const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/

/** Plans a stack; throws a TemplateError for anything wrong before a resource is created. */
export function planStack(t: Template, o: PlanOptions): TemplatePlan {
  if (!STACK_NAME.test(o.stackName)) {
    throw new TemplateError(
      `1 validation error detected: Value '${o.stackName}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]* (at most 128 characters)`,
    )
  }
  const bound = bindParameters(t.parameters, o.parameters, t.lines)
  const known: Record<string, unknown> = { ...pseudoParameters(o), ...bound.values }
  const resourceIds = new Set(t.resources.map((r) => r.logicalId))
  const valueOf = (name: string, line: number | undefined) => {
    if (Object.hasOwn(known, name)) return known[name]
    if (resourceIds.has(name)) {
      throw new TemplateError(
        `Template format error: Unresolved dependencies [${name}]. Cannot reference resources in the Conditions block of the template`,
        line,
      )
    }
    return unresolved(name, line)
  }
  const base = {
    lines: t.lines,
    mappings: t.mappings,
    region: o.region,
    ref: valueOf,
    getAtt: (resource: string, _attribute: string, line: number | undefined) =>
      valueOf(resource, line),
  }
  const condition = decideConditions(t.conditions, base, t.lines)
  const included = t.resources.filter(
    (r) => r.condition === undefined || condition(r.condition, r.line),
  )
  const includedIds = new Set(included.map((r) => r.logicalId))
  const check = checker(known, includedIds, resourceIds, condition, t)
  const planned = included.map((r) => plannedResource(r, includedIds, check))
  const outputs = t.outputs.filter(
    (out) => out.condition === undefined || condition(out.condition, out.line),
  )
  for (const out of outputs) check([out.value, out.exportName], out.line)
  const byId = new Map(included.map((r) => [r.logicalId, r]))

  const scopeFor = (created: CreatedLookup): Scope => ({
    lines: t.lines,
    mappings: t.mappings,
    region: o.region,
    inConditions: false,
    condition,
    ref: (name, line) =>
      Object.hasOwn(known, name) ? known[name] : createdOf(created, name, line).physicalId,
    getAtt: (resource, attribute, line) => attributeOf(created, resource, attribute, line),
  })

  return {
    stackName: o.stackName,
    account: o.account,
    region: o.region,
    baseDir: t.baseDir,
    parameters: bound.strings,
    resources: creationOrder(planned),
    propertyLine(logicalId, name) {
      const r = byId.get(logicalId)
      return r === undefined ? undefined : (t.lines.keyLine(r.properties, name) ?? r.line)
    },
    properties(logicalId, created) {
      const r = byId.get(logicalId)
      if (r === undefined) throw new TemplateError(`${logicalId} is not a resource of this stack`)
      const props = resolve(r.properties, scopeFor(created), r.line)
      // Properties: !If [C, {…}, !Ref AWS::NoValue] leaves none.
      return isRecord(props) ? props : {}
    },
    outputs(created) {
      const scope = scopeFor(created)
      return outputs.map((out) => {
        const value: StackOutput = { key: out.key, value: resolve(out.value, scope, out.line) }
        if (out.description !== undefined) value.description = out.description
        if (out.exportName !== undefined) {
          const name = resolve(out.exportName, scope, out.line)
          if (typeof name !== 'string') {
            throw new TemplateError(`Output ${out.key}: Export Name must be a string`, out.line)
          }
          value.exportName = name
        }
        return value
      })
    },
  }
}

function unresolved(name: string, line: number | undefined): never {
  throw new TemplateError(
    `Template format error: Unresolved resource dependencies [${name}] in the Resources block of the template`,
    line,
  )
}

type Check = (value: unknown, line: number | undefined, deps?: Set<string>) => void

/** Checks every name `value` refers to; resource names go into `deps`. */
function checker(
  known: Record<string, unknown>,
  included: Set<string>,
  all: Set<string>,
  condition: ConditionLookup,
  t: Template,
): Check {
  return (value, line, deps) => {
    walkReferences(
      value,
      {
        lines: t.lines,
        condition,
        visit(name, attribute, at) {
          if (attribute === undefined && Object.hasOwn(known, name)) return
          if (!included.has(name)) {
            if (attribute !== undefined && !all.has(name)) {
              throw new TemplateError(
                `Template error: instance of Fn::GetAtt references undefined resource ${name}`,
                at,
              )
            }
            unresolved(name, at)
          }
          deps?.add(name)
        },
      },
      line,
    )
  }
}

function plannedResource(r: ResourceDecl, included: Set<string>, check: Check): PlannedResource {
  const deps = new Set<string>()
  check(r.properties, r.line, deps)
  for (const d of r.dependsOn) {
    if (!included.has(d)) unresolved(d, r.line)
    deps.add(d)
  }
  return {
    logicalId: r.logicalId,
    type: r.type,
    line: r.line,
    dependsOn: [...deps],
    deletionPolicy: r.deletionPolicy,
  }
}

function createdOf(created: CreatedLookup, name: string, line: number | undefined) {
  const found = created(name)
  if (found === undefined) throw new TemplateError(`${name} has not been created yet`, line)
  return found
}

function attributeOf(
  created: CreatedLookup,
  resource: string,
  attribute: string,
  line: number | undefined,
): unknown {
  const { attributes } = createdOf(created, resource, line)
  if (!Object.hasOwn(attributes, attribute)) {
    throw new TemplateError(
      `Template error: resource ${resource} does not support attribute ${attribute} in Fn::GetAtt; it has [${Object.keys(attributes).join(', ')}]`,
      line,
    )
  }
  return attributes[attribute]
}
