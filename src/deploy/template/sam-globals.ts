/**
 * @module
 * SAM's Globals section merged into each AWS::Serverless::Function: mappings merge key by key
 * (recursively), lists concatenate (the globals first), and anything else the function sets
 * replaces the global. An intrinsic function counts as a single value, not a mapping.
 */
import { TemplateError } from '../model.js'
import { define, type Lines } from './parse.js'
import { checkKeys } from './sam-support.js'
import { isRecord } from './template.js'

function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false
  const keys = Object.keys(value)
  return !(keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::') === true))
}

export function mergeGlobals(global: unknown, own: unknown, lines: Lines): unknown {
  if (own === undefined) return global
  if (isPlainMap(global) && isPlainMap(own)) {
    const out: Record<string, unknown> = {}
    lines.set(out, lines.of(own))
    for (const k of new Set([...Object.keys(global), ...Object.keys(own)])) {
      define(out, k, mergeGlobals(global[k], own[k], lines))
      const line = lines.key(own, k) ?? lines.key(global, k)
      if (line !== undefined) lines.setKey(out, k, line)
    }
    return out
  }
  if (Array.isArray(global) && Array.isArray(own)) {
    const out = [...(global as unknown[]), ...(own as unknown[])]
    lines.set(out, lines.of(own))
    return out
  }
  return own
}

/** The Globals' Function section, checked: only Function is supported, with `allowed` keys. */
export function functionGlobals(
  body: Record<string, unknown>,
  lines: Lines,
  allowed: readonly string[],
): Record<string, unknown> {
  const globals = body.Globals
  if (globals === undefined) return {}
  if (!isRecord(globals))
    throw new TemplateError('Globals must be a mapping', lines.key(body, 'Globals'))
  const other = Object.keys(globals).filter((k) => k !== 'Function')
  if (other.length > 0) {
    throw new TemplateError(
      `Globals section ${other.join(', ')} is not supported; the supported Globals section is Function`,
      lines.key(globals, other[0] ?? ''),
    )
  }
  const fn = globals.Function ?? {}
  return checkKeys(fn, allowed, 'Globals.Function', lines.key(globals, 'Function'))
}
