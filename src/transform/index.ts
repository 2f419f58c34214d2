/**
 * @module
 * What an EventBridge target receives: the event, a constant (`Input`), a part of the event
 * (`InputPath`) or a filled-in template (`InputTransformer`), byte for byte as AWS delivers it,
 * and PutTargets' checks of those settings. Pure: no I/O, no imports from the rest of Junction.
 *
 * @example
 * ```ts
 * import { checkTargetInput, renderInput } from './transform/index.js'
 * const input = {
 *   kind: 'transformer',
 *   transformer: { inputPathsMap: { id: '$.detail.id' }, inputTemplate: '{"order": <id>}' },
 * } as const
 * checkTargetInput('t1', input) // → null
 * renderInput(input, event, { ruleArn, ruleName, ingestionTime }) // → '{"order": "o-17"}'
 * ```
 */
import { checkTargetInput } from './check.js'
import type { InputTransformer, TargetInput } from './types.js'

export { checkTargetInput } from './check.js'
export { evaluatePath, parsePath } from './json-path.js'
export { renderInput } from './render.js'
export { PREDEFINED_VARIABLES } from './template.js'
export type { EventInput, InputTransformer, RuleContext, TargetInput } from './types.js'

/** The Input, InputPath and InputTransformer members of a PutTargets entry, as received. */
export type TargetInputFields = {
  input?: string | undefined
  inputPath?: string | undefined
  inputTransformer?: InputTransformer | undefined
}

/**
 * The {@link TargetInput} a PutTargets entry asks for, or the ValidationException message AWS
 * gives for it: for more than one of the three members, then for {@link checkTargetInput}'s
 * reasons.
 */
export function readTargetInput(
  targetId: string,
  fields: TargetInputFields,
): { input: TargetInput } | { error: string } {
  const { input, inputPath, inputTransformer } = fields
  const given = [input, inputPath, inputTransformer].filter((f) => f !== undefined).length
  if (given > 1) {
    return {
      error: `Only one of Input, InputPath, or InputTransformer must be provided for target ${targetId}.`,
    }
  }
  const target: TargetInput =
    input !== undefined
      ? { kind: 'constant', input }
      : inputPath !== undefined
        ? { kind: 'path', inputPath }
        : inputTransformer !== undefined
          ? { kind: 'transformer', transformer: inputTransformer }
          : { kind: 'event' }
  const error = checkTargetInput(targetId, target)
  return error === null ? { input: target } : { error }
}
