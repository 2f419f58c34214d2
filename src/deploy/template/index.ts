/**
 * @module
 * The template side of `junction deploy`: a CloudFormation or SAM template file (YAML or JSON)
 * loaded and transformed ({@link loadTemplate}), then planned for one stack
 * ({@link planStack}) into the {@link StackPlan} the provisioners walk.
 *
 * @example
 * const template = loadTemplate('examples/anycompany/service-a.yaml')
 * const plan = planStack(template, {
 *   parameters: { CENTRAL_ACCOUNT_ID: '222222222222', CENTRAL_ACCOUNT_REGION: 'us-east-1' },
 *   stackName: 'service-a',
 *   account: '111111111111',
 *   region: 'us-east-1',
 * })
 * for (const r of plan.resources) console.log(r.logicalId, r.type, r.dependsOn)
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { TemplateError } from '../model.js'
import { parseTemplateText } from './parse.js'
import { applyTransforms } from './sam.js'
import { buildTemplate, type Template } from './template.js'

export { planStack, type PlanOptions, type TemplatePlan } from './plan.js'
export type { Template } from './template.js'
export { SUPPORTED_FUNCTIONS } from './intrinsics.js'

/** Parses template text as if read from `path` (code paths are relative to its directory). */
export function parseTemplate(text: string, path: string): Template {
  const { body, lines } = parseTemplateText(text, path)
  applyTransforms(body, lines)
  return buildTemplate(body, lines, dirname(resolve(path)))
}

/** Reads, parses and transforms the template file at `path`. */
export function loadTemplate(path: string): Template {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new TemplateError(`cannot read the template ${path}: ${(err as Error).message}`)
  }
  return parseTemplate(text, path)
}
