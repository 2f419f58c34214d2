/**
 * @module
 * Names the way CloudFormation makes them: stack names (`[a-zA-Z][-a-zA-Z0-9]*`, at most 128
 * characters) and the physical names of resources whose template gives none,
 * `<stack>-<logicalId>-<SUFFIX>`, where SUFFIX is 13 random uppercase letters and digits and the
 * stack and logical-id parts are shortened (each to about half of what is left) to fit the
 * resource type's longest name.
 *
 * @example
 * generatedName('orders', 'ForwardRule', 64) // 'orders-ForwardRule-1XQ7Z0A4B2C9D'
 */
import { randomInt } from 'node:crypto'

export const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/
export const MAX_STACK_NAME = 128
const SUFFIX_LENGTH = 13
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** Why a stack name is refused (CloudFormation's words), or undefined when it is valid. */
export function stackNameProblem(name: string): string | undefined {
  if (name.length > MAX_STACK_NAME || !STACK_NAME.test(name))
    return `1 validation error detected: Value '${name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]* and have length less than or equal to ${String(MAX_STACK_NAME)}`
  return undefined
}

/** A stack name from a template file's base name: `my_template.v2` → `my-template-v2`. */
export function stackNameOfFile(fileBaseName: string): string {
  const bare = fileBaseName.replace(/\.(ya?ml|json|template)$/i, '')
  let name = bare.replace(/[^-a-zA-Z0-9]+/g, '-').replace(/^[^a-zA-Z]+/, '')
  name = name.replace(/-+$/, '').slice(0, MAX_STACK_NAME)
  return name === '' ? 'stack' : name
}

export function randomSuffix(length = SUFFIX_LENGTH): string {
  let s = ''
  for (let i = 0; i < length; i++) s += ALPHABET.charAt(randomInt(ALPHABET.length))
  return s
}

/**
 * `<stack>-<logicalId>-<suffix>` within `maxLength`. When too long, the stack and logical-id
 * parts share what is left after the suffix and the two dashes, half each; a part shorter than
 * its half leaves the rest to the other.
 */
export function generatedName(
  stackName: string,
  logicalId: string,
  maxLength: number,
  suffix: string = randomSuffix(),
): string {
  const full = `${stackName}-${logicalId}-${suffix}`
  if (full.length <= maxLength) return full
  const room = maxLength - suffix.length - 2
  if (room < 2) return suffix.slice(0, maxLength)
  let stackPart = Math.ceil(room / 2)
  let idPart = room - stackPart
  if (stackName.length < stackPart) {
    idPart += stackPart - stackName.length
    stackPart = stackName.length
  } else if (logicalId.length < idPart) {
    stackPart += idPart - logicalId.length
    idPart = logicalId.length
  }
  return `${stackName.slice(0, stackPart)}-${logicalId.slice(0, idPart)}-${suffix}`
}
