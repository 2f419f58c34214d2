/**
 * @module
 * PutTargets' checks of a target's Input, InputPath and InputTransformer.
 *
 * Messages recorded on AWS: the mutually exclusive settings and the undefined placeholder (both
 * in the shared corpus). `Input for target <id> is not a valid JSON text.` is AWS's wording as
 * users have quoted it (for an input that must be JSON). The others are ours, in the same style:
 * AWS words model constraints (`1 validation error detected: Value … at
 * 'targets.1.member.inputTransformer…'`) with the entry's position, which a single target does
 * not know, and what AWS says for a malformed JSON path is not recorded anywhere we could find.
 */
import { parsePath } from './json-path.js'
import { isJson, PREDEFINED_VARIABLES, placeholderNames } from './template.js'
import type { InputTransformer, TargetInput } from './types.js'

// model constraints (botocore events 2015-10-07)
const MAX_INPUT = 8192
const MAX_TEMPLATE = 8192
const MAX_PATH = 256
const MAX_KEY = 256
const MAX_ENTRIES = 100
const KEY = /^[A-Za-z0-9_-]+$/

/** The ValidationException message PutTargets gives for this setting, or `null` if it is valid. */
export function checkTargetInput(targetId: string, input: TargetInput): string | null {
  switch (input.kind) {
    case 'event':
      return null
    case 'constant':
      if (input.input.length > MAX_INPUT) {
        return `Input for target ${targetId} must be at most ${MAX_INPUT} characters long.`
      }
      return isJson(input.input) ? null : `Input for target ${targetId} is not a valid JSON text.`
    case 'path':
      return checkPath(input.inputPath, 'InputPath', `InputPath for target ${targetId}`, targetId)
    case 'transformer':
      return checkTransformer(targetId, input.transformer)
  }
}

function checkPath(
  path: string,
  member: 'InputPath' | 'InputPathsMap',
  subject: string,
  targetId: string,
): string | null {
  if (path.length > MAX_PATH) return `${subject} must be at most ${MAX_PATH} characters long.`
  if (parsePath(path) !== null) return null
  return `Invalid JSON path ${path} in ${member} for target ${targetId}.`
}

function checkTransformer(targetId: string, transformer: InputTransformer): string | null {
  const template = transformer.inputTemplate
  if (template.length === 0 || template.length > MAX_TEMPLATE) {
    return `InputTemplate for target ${targetId} must be between 1 and ${MAX_TEMPLATE} characters long.`
  }
  const entries = Object.entries(transformer.inputPathsMap ?? {})
  if (entries.length > MAX_ENTRIES) {
    return `InputPathsMap for target ${targetId} has ${entries.length} entries; at most ${MAX_ENTRIES} are allowed.`
  }
  for (const [key, path] of entries) {
    // such a key also fails the pattern (it has a dot); the specific reason is kinder
    if (key.startsWith('AWS.')) {
      return `InputPathsMap for target ${targetId} contains reserved key ${key}. Keys cannot start with "AWS.".`
    }
    if (key.length > MAX_KEY || !KEY.test(key)) {
      return `InputPathsMap for target ${targetId} contains invalid key ${key}. Keys must match [A-Za-z0-9_-]+ and be at most ${MAX_KEY} characters long.`
    }
    const subject = `InputPathsMap value for key ${key} of target ${targetId}`
    const problem = checkPath(path, 'InputPathsMap', subject, targetId)
    if (problem !== null) return problem
  }
  const defined = new Set(entries.map(([key]) => key))
  for (const name of placeholderNames(template)) {
    if (!defined.has(name) && !PREDEFINED_VARIABLES.has(name)) {
      return `InputTemplate for target ${targetId} contains invalid placeholder ${name}.`
    }
  }
  return null
}
