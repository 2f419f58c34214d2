/**
 * @module
 * CloudFormation's intrinsic functions, evaluated over plain template data. What a name refers
 * to (a parameter, a pseudo parameter, a created resource), whether a condition holds, and which
 * mappings exist come from a {@link Scope}, so the same evaluator serves Conditions, resource
 * Properties and Outputs. `{ "Ref": "AWS::NoValue" }` evaluates to {@link NO_VALUE}, which
 * removes the key or list element holding it.
 */
import { TemplateError } from '../model.js'
import { define, splitGetAtt, type Lines } from './parse.js'
import { isRecord, own } from './template.js'

export const NO_VALUE: unique symbol = Symbol('AWS::NoValue')

export type Scope = {
  lines: Lines
  mappings: Record<string, unknown>
  region: string
  /** A parameter's, pseudo parameter's or resource's value; throws when there is none. */
  ref(name: string, line: number | undefined): unknown
  getAtt(resource: string, attribute: string, line: number | undefined): unknown
  condition(name: string, line: number | undefined): boolean
  /** True in the Conditions section: `{ Condition: name }` and Fn::Equals/And/Or/Not apply. */
  inConditions: boolean
}

type Fn = (arg: unknown, scope: Scope, line: number | undefined) => unknown

const fail = (message: string, line: number | undefined): never => {
  throw new TemplateError(message, line)
}

/** Evaluates every intrinsic function in `value`. */
export function resolve(value: unknown, scope: Scope, line?: number): unknown {
  if (Array.isArray(value)) {
    const at = scope.lines.of(value) ?? line
    const out: unknown[] = []
    for (const item of value) {
      const r = resolve(item, scope, at)
      if (r !== NO_VALUE) out.push(r)
    }
    return out
  }
  if (!isRecord(value)) return value
  const at = scope.lines.of(value) ?? line
  const keys = Object.keys(value)
  const only = keys.length === 1 ? keys[0] : undefined
  if (only !== undefined) {
    const fn = own(FUNCTIONS, only)
    if (fn !== undefined && (!CONDITION_ONLY.has(only) || scope.inConditions)) {
      return fn(value[only], scope, at)
    }
    if (only.startsWith('Fn::') && fn === undefined) unsupported(only, at)
    if (fn !== undefined && only !== 'Condition') {
      fail(`${only} can only be used in the Conditions section`, at)
    }
  }
  const out: Record<string, unknown> = {}
  for (const k of keys) {
    const r = resolve(value[k], scope, scope.lines.key(value, k) ?? at)
    if (r !== NO_VALUE) define(out, k, r)
  }
  return out
}

export function unsupported(name: string, line: number | undefined): never {
  return fail(
    `${name} is not supported; the supported intrinsic functions are ${Object.keys(FUNCTIONS).join(', ')}`,
    line,
  )
}

function scalarText(value: unknown, where: string, line: number | undefined): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return fail(
    `${where}: expected a string, got ${value === NO_VALUE ? 'AWS::NoValue' : JSON.stringify(value)}`,
    line,
  )
}

function list(arg: unknown, fn: string, sizes: number[], line: number | undefined): unknown[] {
  if (!Array.isArray(arg) || !sizes.includes(arg.length)) {
    const n =
      sizes.length === 1 ? String(sizes[0]) : `${String(sizes[0])} to ${String(sizes.at(-1))}`
    return fail(`Template error: ${fn} requires a list of ${n} elements`, line)
  }
  return arg
}

const ref: Fn = (arg, scope, line) => {
  if (typeof arg !== 'string')
    return fail('Template error: Ref requires a string (a parameter or logical id)', line)
  return arg === 'AWS::NoValue' ? NO_VALUE : scope.ref(arg, line)
}

/** The `[resource, attribute]` of a Fn::GetAtt argument. */
export function getAttParts(arg: unknown, line: number | undefined): [string, unknown] {
  const parts = typeof arg === 'string' ? splitGetAtt(arg) : arg
  if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== 'string') {
    return fail(
      'Template error: Fn::GetAtt requires "Resource.Attribute" or [Resource, Attribute]',
      line,
    )
  }
  return [parts[0], parts[1]]
}

const getAtt: Fn = (arg, scope, line) => {
  const [resource, attribute] = getAttParts(arg, line)
  const name = scalarText(resolve(attribute, scope, line), 'Fn::GetAtt attribute', line)
  return scope.getAtt(resource, name, line)
}

const SUB_VARIABLE = /\$\{([^}]*)\}/g
const VARIABLE_NAME = /^[A-Za-z0-9_.:]+$/

/** The names a Fn::Sub string refers to (`${!Literal}` excluded), each checked. */
export function subNames(template: string, line: number | undefined): string[] {
  const names: string[] = []
  for (const m of template.matchAll(SUB_VARIABLE)) {
    const inner = m[1] ?? ''
    if (inner.startsWith('!')) continue
    const name = inner.trim()
    if (!VARIABLE_NAME.test(name)) {
      fail(
        `Template error: variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons (\${${inner}})`,
        line,
      )
    }
    names.push(name)
  }
  return names
}

/** The template string and variables map of a Fn::Sub argument. */
export function subParts(
  arg: unknown,
  line: number | undefined,
): [string, Record<string, unknown>] {
  if (typeof arg === 'string') return [arg, {}]
  if (Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string' && isRecord(arg[1])) {
    return [arg[0], arg[1]]
  }
  return fail('Template error: Fn::Sub requires a string or [string, {variables}]', line)
}

const sub: Fn = (arg, scope, line) => {
  const [template, rawVars] = subParts(arg, line)
  subNames(template, line)
  const vars = resolve(rawVars, scope, line) as Record<string, unknown>
  return template.replace(SUB_VARIABLE, (_whole, inner: string) => {
    if (inner.startsWith('!')) return `\${${inner.slice(1)}}`
    const name = inner.trim()
    let value: unknown
    if (Object.hasOwn(vars, name)) value = vars[name]
    else if (name.includes('.')) {
      const [resource, attribute] = splitGetAtt(name) as [string, string]
      value = scope.getAtt(resource, attribute, line)
    } else value = name === 'AWS::NoValue' ? NO_VALUE : scope.ref(name, line)
    return scalarText(value, `Fn::Sub \${${name}}`, line)
  })
}

const join: Fn = (arg, scope, line) => {
  const [delimiter, items] = list(arg, 'Fn::Join', [2], line)
  if (typeof delimiter !== 'string')
    return fail('Template error: Fn::Join delimiter must be a string', line)
  const values = resolve(items, scope, line)
  if (!Array.isArray(values))
    return fail('Template error: Fn::Join requires a list of values to join', line)
  return values.map((v) => scalarText(v, 'Fn::Join element', line)).join(delimiter)
}

const select: Fn = (arg, scope, line) => {
  const [rawIndex, rawList] = list(arg, 'Fn::Select', [2], line)
  const index = Number(scalarText(resolve(rawIndex, scope, line), 'Fn::Select index', line))
  const values = resolve(rawList, scope, line)
  if (!Array.isArray(values))
    return fail('Template error: Fn::Select requires a list to select from', line)
  if (!Number.isInteger(index) || index < 0 || index >= values.length) {
    return fail(
      `Template error: Fn::Select cannot select nonexistent value at index ${String(index)}`,
      line,
    )
  }
  return values[index]
}

const split: Fn = (arg, scope, line) => {
  const [delimiter, source] = list(arg, 'Fn::Split', [2], line)
  if (typeof delimiter !== 'string' || delimiter === '') {
    return fail('Template error: Fn::Split delimiter must be a non-empty string', line)
  }
  return scalarText(resolve(source, scope, line), 'Fn::Split source', line).split(delimiter)
}

const fnIf: Fn = (arg, scope, line) => {
  const [name, whenTrue, whenFalse] = list(arg, 'Fn::If', [3], line)
  if (typeof name !== 'string')
    return fail('Template error: Fn::If requires a condition name first', line)
  return resolve(scope.condition(name, line) ? whenTrue : whenFalse, scope, line)
}

/** Values as Fn::Equals compares them: scalars by their text, so `1` equals `"1"`. */
function canonical(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value)
}

const equals: Fn = (arg, scope, line) => {
  const [a, b] = list(arg, 'Fn::Equals', [2], line)
  const left = resolve(a, scope, line)
  const right = resolve(b, scope, line)
  return canonical(left) === canonical(right)
}

function booleans(
  arg: unknown,
  fn: string,
  sizes: number[],
  scope: Scope,
  line: number | undefined,
): boolean[] {
  return list(arg, fn, sizes, line).map((item) => {
    const value = resolve(item, scope, line)
    if (typeof value !== 'boolean') {
      return fail(
        `Template error: every element of ${fn} must be a condition (Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition)`,
        line,
      )
    }
    return value
  })
}

const TWO_TO_TEN = [2, 3, 4, 5, 6, 7, 8, 9, 10]
const and: Fn = (arg, scope, line) =>
  booleans(arg, 'Fn::And', TWO_TO_TEN, scope, line).every(Boolean)
const or: Fn = (arg, scope, line) => booleans(arg, 'Fn::Or', TWO_TO_TEN, scope, line).some(Boolean)
const not: Fn = (arg, scope, line) => !booleans(arg, 'Fn::Not', [1], scope, line)[0]
const condition: Fn = (arg, scope, line) =>
  typeof arg === 'string'
    ? scope.condition(arg, line)
    : fail('Template error: Condition requires a condition name', line)

const findInMap: Fn = (arg, scope, line) => {
  const parts = list(arg, 'Fn::FindInMap', [3, 4], line)
  const [map, top, second] = parts
    .slice(0, 3)
    .map((p) => scalarText(resolve(p, scope, line), 'Fn::FindInMap key', line)) as [
    string,
    string,
    string,
  ]
  const options = parts[3]
  const hasDefault = isRecord(options) && Object.hasOwn(options, 'DefaultValue')
  const mapping = own(scope.mappings, map)
  if (!isRecord(mapping)) {
    return hasDefault
      ? resolve(options.DefaultValue, scope, line)
      : fail(
          `Template error: Mapping named '${map}' is not present in the 'Mappings' section of template`,
          line,
        )
  }
  const level = own(mapping, top)
  const value = isRecord(level) ? own(level, second) : undefined
  if (value === undefined) {
    return hasDefault
      ? resolve(options.DefaultValue, scope, line)
      : fail(`Template error: Unable to get mapping for ${map}::${top}::${second}`, line)
  }
  return value
}

const base64: Fn = (arg, scope, line) =>
  Buffer.from(scalarText(resolve(arg, scope, line), 'Fn::Base64', line), 'utf8').toString('base64')

const getAZs: Fn = (arg, scope, line) => {
  const given = scalarText(resolve(arg ?? '', scope, line), 'Fn::GetAZs', line)
  const region = given === '' ? scope.region : given
  return ['a', 'b', 'c'].map((zone) => region + zone)
}

const toJsonString: Fn = (arg, scope, line) => {
  const value = resolve(arg, scope, line)
  if (typeof value !== 'object' || value === null) {
    return fail('Template error: Fn::ToJsonString requires an object or a list', line)
  }
  return JSON.stringify(value)
}

const length: Fn = (arg, scope, line) => {
  const value = resolve(arg, scope, line)
  return Array.isArray(value)
    ? value.length
    : fail('Template error: Fn::Length requires a list', line)
}

const CONDITION_ONLY = new Set(['Fn::Equals', 'Fn::And', 'Fn::Or', 'Fn::Not', 'Condition'])

const FUNCTIONS: Record<string, Fn> = {
  Ref: ref,
  'Fn::GetAtt': getAtt,
  'Fn::Sub': sub,
  'Fn::Join': join,
  'Fn::Select': select,
  'Fn::Split': split,
  'Fn::If': fnIf,
  'Fn::Equals': equals,
  'Fn::And': and,
  'Fn::Or': or,
  'Fn::Not': not,
  Condition: condition,
  'Fn::FindInMap': findInMap,
  'Fn::Base64': base64,
  'Fn::GetAZs': getAZs,
  'Fn::ToJsonString': toJsonString,
  'Fn::Length': length,
}

/** The intrinsic function names evaluated here. */
export const SUPPORTED_FUNCTIONS: readonly string[] = Object.keys(FUNCTIONS)
