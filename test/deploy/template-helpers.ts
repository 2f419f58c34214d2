/**
 * Shared by the template tests: plan a template given as text, and look up created resources.
 */
import { parseTemplate, planStack, type TemplatePlan } from '../../src/deploy/template/index.js'
import type { CreatedLookup, ResourceCreated } from '../../src/deploy/model.js'

export const STACK = { stackName: 'demo', account: '123456789012', region: 'eu-west-1' }

export function planText(
  text: string,
  parameters: Record<string, string> = {},
  path = '/templates/template.yaml',
): TemplatePlan {
  return planStack(parseTemplate(text, path), { ...STACK, parameters })
}

/** A lookup over resources "created" with the given physical ids and attributes. */
export function created(resources: Record<string, ResourceCreated>): CreatedLookup {
  return (id) => resources[id]
}

export const nothing: CreatedLookup = () => undefined

/** The resolved Properties of the one resource of a template (for intrinsic tests). */
export function propsOf(
  text: string,
  id = 'R',
  parameters: Record<string, string> = {},
): Record<string, unknown> {
  return planText(text, parameters).properties(id, nothing)
}
