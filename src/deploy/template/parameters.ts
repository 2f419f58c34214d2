/**
 * @module
 * Binding parameter values: overrides checked against the declarations, defaults applied, every
 * value checked against its constraints with CloudFormation's messages (or the parameter's
 * ConstraintDescription). `Ref` to a String or Number parameter gives a string, to a list type an
 * array of strings.
 */
import { TemplateError } from '../model.js'
import type { Lines } from './parse.js'

export type ParameterValue = string | string[]

export type BoundParameters = {
  /** What `Ref` returns. */
  values: Record<string, ParameterValue>
  /** The values as given or defaulted, for the stack record. */
  strings: Record<string, string>
}

const ATTRIBUTES = [
  'Type',
  'Default',
  'Description',
  'AllowedValues',
  'AllowedPattern',
  'MinLength',
  'MaxLength',
  'MinValue',
  'MaxValue',
  'ConstraintDescription',
  'NoEcho',
]

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/

type Kind = 'string' | 'number' | 'list' | 'numberList'

function kindOf(type: unknown): Kind | undefined {
  if (type === 'String') return 'string'
  if (type === 'Number') return 'number'
  if (type === 'List<Number>') return 'numberList'
  if (type === 'CommaDelimitedList') return 'list'
  if (typeof type !== 'string') return undefined
  // AWS-specific types (AWS::EC2::VPC::Id, AWS::SSM::Parameter::Value<String>, …) are not looked
  // up here: their values are taken as given.
  if (/^List<AWS::[A-Za-z0-9:]+>$/.test(type)) return 'list'
  if (
    /^AWS::SSM::Parameter::Value<List<.+>>$/.test(type) ||
    type === 'AWS::SSM::Parameter::Value<CommaDelimitedList>'
  )
    return 'list'
  if (/^AWS::[A-Za-z0-9:]+(<.+>)?$/.test(type)) return 'string'
  return undefined
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return value.join(',')
  }
  return undefined
}

/** Binds `overrides` to the declared parameters. */
export function bindParameters(
  decls: Record<string, Record<string, unknown>>,
  overrides: Record<string, string>,
  lines: Lines,
): BoundParameters {
  const unknown = Object.keys(overrides).filter((k) => !Object.hasOwn(decls, k))
  if (unknown.length > 0) {
    throw new TemplateError(`Parameters: [${unknown.join(', ')}] do not exist in the template`)
  }
  const missing = Object.keys(decls).filter(
    (k) => !Object.hasOwn(overrides, k) && decls[k]?.Default === undefined,
  )
  if (missing.length > 0) {
    throw new TemplateError(
      `Parameters: [${missing.join(', ')}] must have values`,
      lines.of(decls[missing[0] ?? '']),
    )
  }
  const values: Record<string, ParameterValue> = {}
  const strings: Record<string, string> = {}
  for (const [name, decl] of Object.entries(decls)) {
    const line = lines.of(decl)
    const bad = Object.keys(decl).filter((k) => !ATTRIBUTES.includes(k))
    if (bad.length > 0) {
      throw new TemplateError(
        `Template format error: Invalid template parameter property '${bad.join("', '")}' (parameter ${name}); the properties are ${ATTRIBUTES.join(', ')}`,
        lines.key(decl, bad[0] ?? ''),
      )
    }
    const kind = kindOf(decl.Type)
    if (kind === undefined) {
      throw new TemplateError(
        `Template format error: Unrecognized parameter type: ${String(decl.Type)} (parameter ${name}); the types are String, Number, List<Number>, CommaDelimitedList and the AWS-specific types`,
        line,
      )
    }
    const given = Object.hasOwn(overrides, name) ? overrides[name] : text(decl.Default)
    if (given === undefined) {
      throw new TemplateError(`Parameter ${name}: Default must be a string`, line)
    }
    strings[name] = given
    values[name] = checkValue(name, kind, given, decl, line)
  }
  return { values, strings }
}

function checkValue(
  name: string,
  kind: Kind,
  given: string,
  decl: Record<string, unknown>,
  line: number | undefined,
): ParameterValue {
  if (kind === 'string' || kind === 'number') {
    checkMember(name, kind, given, decl, line)
    return given
  }
  // Each member of a list is trimmed of spaces.
  const members = given === '' ? [] : given.split(',').map((m) => m.trim())
  for (const m of members)
    checkMember(name, kind === 'numberList' ? 'number' : 'string', m, decl, line)
  return members
}

function checkMember(
  name: string,
  kind: 'string' | 'number',
  value: string,
  decl: Record<string, unknown>,
  line: number | undefined,
): void {
  const fail = (message: string): never => {
    const why = decl.ConstraintDescription
    throw new TemplateError(
      typeof why === 'string'
        ? `Parameter '${name}' failed to satisfy constraint: ${why}`
        : message,
      line,
    )
  }
  if (kind === 'number' && !NUMBER.test(value)) fail(`Parameter '${name}' must be a number`)
  const allowed = decl.AllowedValues
  if (Array.isArray(allowed) && !allowed.map(text).includes(value)) {
    fail(`Parameter '${name}' must be one of AllowedValues: ${allowed.map(text).join(', ')}`)
  }
  const pattern = decl.AllowedPattern
  if (typeof pattern === 'string' && !new RegExp(`^(?:${pattern})$`, 'u').test(value)) {
    fail(`Parameter '${name}' must match pattern ${pattern}`)
  }
  const min = numberOf(decl.MinLength)
  if (min !== undefined && value.length < min)
    fail(`Parameter '${name}' must contain at least ${min} characters`)
  const max = numberOf(decl.MaxLength)
  if (max !== undefined && value.length > max)
    fail(`Parameter '${name}' must contain at most ${max} characters`)
  const minValue = numberOf(decl.MinValue)
  if (minValue !== undefined && Number(value) < minValue) {
    fail(`Parameter '${name}' must be a number not less than ${minValue}`)
  }
  const maxValue = numberOf(decl.MaxValue)
  if (maxValue !== undefined && Number(value) > maxValue) {
    fail(`Parameter '${name}' must be a number not greater than ${maxValue}`)
  }
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'string' && NUMBER.test(value)) return Number(value)
  return undefined
}
