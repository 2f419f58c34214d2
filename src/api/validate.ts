/**
 * @module
 * Request checking with AWS's ValidationException wording (reference §1.4):
 * `1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: Member must …`,
 * several joined as `N validation errors detected: a; b`. Paths are lowerCamelCase with 1-based
 * list indices (`targets.1.member.id`). A member of the wrong JSON type is a
 * SerializationException, as the AWS JSON protocol answers.
 */
import { BusError } from '../errors.js'

export type Input = Record<string, unknown>

export type StringRule = {
  required?: boolean
  min?: number
  max?: number
  /** Anchored test; `patternText` is how AWS prints it. */
  pattern?: RegExp
  patternText?: string
  enum?: readonly string[]
}

export type NumberRule = { required?: boolean; min?: number; max?: number }

export class Checker {
  private readonly errors: string[] = []

  /** Records a failed constraint on a value (rendered the way AWS renders it). */
  fail(value: unknown, path: string, constraint: string): void {
    const shown =
      value === undefined || value === null
        ? 'null'
        : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`
    this.errors.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`)
  }

  string(input: Input, member: string, path: string, rule: StringRule = {}): string | undefined {
    const v = input[member]
    if (v === undefined || v === null) {
      if (rule.required) this.fail(undefined, path, 'Member must not be null')
      return undefined
    }
    if (typeof v !== 'string') throw wrongType(member, 'a string')
    this.checkString(v, path, rule)
    return v
  }

  /** Checks a string already taken out of its container (list items, map values). */
  checkString(v: string, path: string, rule: StringRule): void {
    if (rule.enum && !rule.enum.includes(v))
      this.fail(v, path, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`)
    if (rule.pattern && !rule.pattern.test(v))
      this.fail(
        v,
        path,
        `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`,
      )
    // AWS counts characters (code points), not UTF-16 units.
    if (rule.max === undefined && rule.min === undefined) return
    // Code points lie between half the UTF-16 length and the length: count only when it matters.
    const sure =
      (rule.max === undefined || v.length <= rule.max) &&
      (rule.min === undefined || v.length / 2 >= rule.min)
    if (sure) return
    let length = 0
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i)
      if (c < 0xd800 || c > 0xdbff) length++
    }
    if (rule.max !== undefined && length > rule.max)
      this.fail(v, path, `Member must have length less than or equal to ${String(rule.max)}`)
    if (rule.min !== undefined && length < rule.min)
      this.fail(v, path, `Member must have length greater than or equal to ${String(rule.min)}`)
  }

  integer(input: Input, member: string, path: string, rule: NumberRule = {}): number | undefined {
    const v = input[member]
    if (v === undefined || v === null) {
      if (rule.required) this.fail(undefined, path, 'Member must not be null')
      return undefined
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(member, 'an integer')
    if (rule.max !== undefined && v > rule.max)
      this.fail(v, path, `Member must have value less than or equal to ${String(rule.max)}`)
    if (rule.min !== undefined && v < rule.min)
      this.fail(v, path, `Member must have value greater than or equal to ${String(rule.min)}`)
    return v
  }

  boolean(input: Input, member: string): boolean | undefined {
    const v = input[member]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'boolean') throw wrongType(member, 'a boolean')
    return v
  }

  object(input: Input, member: string, path: string, required = false): Input | undefined {
    const v = input[member]
    if (v === undefined || v === null) {
      if (required) this.fail(undefined, path, 'Member must not be null')
      return undefined
    }
    if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(member, 'an object')
    return v as Input
  }

  list(
    input: Input,
    member: string,
    path: string,
    rule: { required?: boolean; min?: number; max?: number } = {},
  ): unknown[] | undefined {
    const v = input[member]
    if (v === undefined || v === null) {
      if (rule.required) this.fail(undefined, path, 'Member must not be null')
      return undefined
    }
    if (!Array.isArray(v)) throw wrongType(member, 'a list')
    if (rule.max !== undefined && v.length > rule.max)
      this.fail(
        listText(v),
        path,
        `Member must have length less than or equal to ${String(rule.max)}`,
      )
    if (rule.min !== undefined && v.length < rule.min)
      this.fail(
        listText(v),
        path,
        `Member must have length greater than or equal to ${String(rule.min)}`,
      )
    return v as unknown[]
  }

  stringList(
    input: Input,
    member: string,
    path: string,
    rule: StringRule & { maxItems?: number } = {},
  ): string[] | undefined {
    const items = this.list(
      input,
      member,
      path,
      rule.maxItems === undefined ? {} : { max: rule.maxItems },
    )
    if (!items) return undefined
    return items.map((item, i) => {
      if (typeof item !== 'string') throw wrongType(member, 'a list of strings')
      this.checkString(item, `${path}.${String(i + 1)}.member`, rule)
      return item
    })
  }

  /** A map of strings to strings; keys and values checked against the model's shapes when given. */
  stringMap(
    input: Input,
    member: string,
    path = member,
    rules: { key?: StringRule; value?: StringRule } = {},
  ): Record<string, string> | undefined {
    const v = this.object(input, member, member)
    if (!v) return undefined
    for (const [key, value] of Object.entries(v)) {
      if (typeof value !== 'string') throw wrongType(member, 'a map of strings')
      if (rules.key) this.checkString(key, `${path}.key`, rules.key)
      if (rules.value) this.checkString(value, `${path}.${key}`, rules.value)
    }
    return v as Record<string, string>
  }

  get ok(): boolean {
    return this.errors.length === 0
  }

  /** Throws the ValidationException for everything recorded so far. */
  done(): void {
    if (this.errors.length === 0) return
    const n = this.errors.length
    throw new BusError(
      'ValidationException',
      `${String(n)} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`,
    )
  }
}

function wrongType(member: string, expected: string): BusError {
  return new BusError('SerializationException', `${member} must be ${expected}.`)
}

/** AWS prints a list value as Java's `toString()`; the shape `[a, b]` is what clients see. */
function listText(v: unknown[]): string {
  return `[${v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')}]`
}

// ── shapes from the model (reference §2.1) ───────────────────────────────────

const NAME = /^[.\-_A-Za-z0-9]+$/
export const NAME_PATTERN = { pattern: NAME, patternText: '[\\.\\-_A-Za-z0-9]+' }
export const RULE_NAME: StringRule = { min: 1, max: 64, ...NAME_PATTERN }
export const TARGET_ID: StringRule = { min: 1, max: 64, ...NAME_PATTERN }
export const CONNECTION_NAME: StringRule = { min: 1, max: 64, ...NAME_PATTERN }
export const EVENT_BUS_NAME: StringRule = {
  min: 1,
  max: 256,
  pattern: /^[/.\-_A-Za-z0-9]+$/,
  patternText: '[/\\.\\-_A-Za-z0-9]+',
}
export const EVENT_BUS_NAME_OR_ARN: StringRule = {
  min: 1,
  max: 1600,
  pattern: /^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/,
  patternText:
    '(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+',
}
export const PUT_EVENTS_BUS: StringRule = {
  min: 1,
  max: 1600,
  pattern: /^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[.\-_A-Za-z0-9]+$/,
  patternText:
    '(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+',
}
export const DESCRIPTION: StringRule = { max: 512 }
export const ARN: StringRule = { min: 1, max: 1600 }
export const LIMIT: NumberRule = { min: 1, max: 100 }
export const NEXT_TOKEN: StringRule = { min: 1, max: 2048 }
