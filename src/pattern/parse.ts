/**
 * Validates and compiles pattern text in one streaming pass, in the order EventBridge does, so
 * that the first problem reported is the one EventBridge reports. See docs/patterns.md.
 */
import type { CompiledPattern, Condition, ExclusionCondition, FieldTest } from './ast.js'
import { PatternError } from './errors.js'
import { looksLikeIp, parseIp, rangeOf } from './ip.js'
import { JsonReader, JsonSyntaxError, sourceRef, type TokenKind } from './json-reader.js'
import { comparableNumber } from './numbers.js'
import { foldPattern } from './case-fold.js'
import { checkWildcard, wildcardComplexity, wildcardParts } from './wildcard.js'

export const DEFAULT_MAX_PATTERN_LENGTH = 4096
/** Highest wildcard complexity a field may have (see `wildcardComplexity`). */
export const MAX_WILDCARD_COMPLEXITY = 10
/** Most branches `$or` may expand into. */
export const MAX_BRANCHES = 1024

const TOO_COMPLEX =
  'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character'
const ONE_KEY = 'Only one key allowed in match expression'
const TOO_MANY_ELEMENTS = 'Too many elements in numeric expression'

/** Names that may not be field names inside `$or`, where they would read as operators. */
const RESERVED = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
])

export type CompileOptions = { maxLength?: number }

/** Compiles pattern text; throws {@link PatternError}. */
export function compilePattern(text: string, options: CompileOptions = {}): CompiledPattern {
  const max = options.maxLength ?? DEFAULT_MAX_PATTERN_LENGTH
  if (text.length > max) {
    throw new PatternError(`Event pattern is longer than ${max} characters`, {
      code: 'ValidationException',
      message: `1 validation error detected: Value '${text}' at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    })
  }
  const compiler = new Compiler(text)
  try {
    return compiler.compile()
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      throw new PatternError(e.message, { location: sourceRef(text, e.offset) })
    }
    throw e
  }
}

type Alternative = Map<string, Condition[]>

class Compiler {
  private readonly r: JsonReader

  constructor(private readonly text: string) {
    this.r = new JsonReader(text)
  }

  compile(): CompiledPattern {
    if (this.r.next() !== 'startObject') this.fail('Filter is not an object')
    const alternatives = this.object('', [new Map<string, Condition[]>()], false)
    if (alternatives.length > MAX_BRANCHES) this.fail(TOO_COMPLEX)
    const branches = alternatives.map((alt) =>
      [...alt.entries()]
        .map(([path, conditions]): FieldTest => ({ path, conditions }))
        .sort(byCostThenPath),
    )
    this.checkComplexity(branches)
    return { branches }
  }

  /** Reads an object's members after its `{`; returns the alternatives extended by them. */
  private object(prefix: string, alts: Alternative[], inOr: boolean): Alternative[] {
    let members = 0
    for (;;) {
      const t = this.r.next()
      if (t === 'endObject') break
      members++
      const key = this.r.text
      if (inOr && RESERVED.has(key)) {
        this.fail(`${key} is Ruler reserved fieldName which cannot be used inside $or.`)
      }
      if (key === '$or') {
        alts = this.or(prefix, alts)
        continue
      }
      const path = prefix === '' ? key : `${prefix}.${key}`
      const v = this.r.next()
      if (v === 'startObject') alts = this.object(path, alts, inOr)
      else if (v === 'startArray') {
        const conditions = this.valueList()
        for (const alt of alts) alt.set(path, conditions)
      } else this.fail(`"${key}" must be an object or an array`)
    }
    if (members === 0) this.fail('Empty objects are not allowed')
    return alts
  }

  private or(prefix: string, saved: Alternative[]): Alternative[] {
    if (this.r.next() !== 'startArray') this.fail('It must be an Array followed with $or.')
    const out: Alternative[] = []
    let count = 0
    for (;;) {
      const t = this.r.next()
      if (t === 'endArray') break
      if (t !== 'startObject')
        this.fail('Only JSON object is allowed in array of $or relationship.')
      count++
      const copies = saved.map((alt) => new Map(alt))
      out.push(...this.object(prefix, copies, true))
      if (out.length > MAX_BRANCHES) this.fail(TOO_COMPLEX)
    }
    if (count < 2) this.fail('There must have at least 2 Objects in $or relationship.')
    return out
  }

  /** The elements of a field's array: its alternative conditions. */
  private valueList(): Condition[] {
    const conditions: Condition[] = []
    for (;;) {
      const t = this.r.next()
      switch (t) {
        case 'endArray':
          if (conditions.length === 0) this.fail('Empty arrays are not allowed')
          return conditions
        case 'string':
          conditions.push(stringCondition(this.r.text))
          break
        case 'number':
          conditions.push(numberCondition(this.r.text))
          break
        case 'true':
        case 'false':
        case 'null':
          conditions.push({ kind: 'literal', value: t === 'null' ? null : t === 'true' })
          break
        case 'startObject':
          conditions.push(this.matchExpression())
          break
        default:
          this.fail('Match value must be String, number, true, false, or null')
      }
    }
  }

  private matchExpression(): Condition {
    if (this.r.next() !== 'fieldName') this.fail('Match expression name not found')
    const name = this.r.text
    switch (name) {
      case 'exactly': {
        const value = this.string('exact match pattern must be a string')
        this.close(ONE_KEY)
        return { kind: 'string', value }
      }
      case 'prefix':
      case 'suffix':
        return this.affix(name)
      case 'equals-ignore-case': {
        const value = this.string('equals-ignore-case match pattern must be a string')
        this.close(ONE_KEY)
        return { kind: 'equals-ignore-case', value: foldPattern(value) }
      }
      case 'wildcard': {
        const value = this.string('wildcard match pattern must be a string')
        this.wildcardSyntax(value)
        this.close(ONE_KEY)
        return { kind: 'wildcard', value, parts: wildcardParts(value) }
      }
      case 'numeric':
        return this.numeric()
      case 'exists': {
        const t = this.r.next()
        if (t !== 'true' && t !== 'false') {
          this.fail('exists match pattern must be either true or false.')
        }
        this.close(ONE_KEY)
        return { kind: 'exists', value: t === 'true' }
      }
      case 'cidr':
        return this.cidr()
      case 'anything-but':
        return this.anythingBut()
      default:
        return this.fail(`Unrecognized match type ${name}`)
    }
  }

  private affix(kind: 'prefix' | 'suffix'): Condition {
    const t = this.r.next()
    if (t === 'startObject') {
      const title = kind === 'prefix' ? 'Prefix' : 'Suffix'
      if (this.r.next() !== 'fieldName') this.fail(`${title} expression name not found`)
      if (this.r.text !== 'equals-ignore-case') {
        this.fail(`Unsupported ${kind} pattern: ${this.r.text}`)
      }
      const value = this.string('equals-ignore-case match pattern must be a string')
      this.close(ONE_KEY)
      this.close(ONE_KEY)
      return { kind, value: foldPattern(value), ignoreCase: true }
    }
    if (t !== 'string') this.fail(`${kind} match pattern must be a string`)
    const value = this.r.text
    this.close(ONE_KEY)
    return { kind, value, ignoreCase: false }
  }

  private numeric(): Condition {
    if (this.r.next() !== 'startArray') this.fail('Value of numeric must be an array.')
    const first = this.r.next()
    if (first !== 'string') this.fail(`Invalid member in numeric match: ${this.tokenText(first)}`)
    const op = this.r.text
    if (op === '=' || op === '<' || op === '<=') {
      const label = op === '=' ? 'equals' : op
      if (this.r.next() !== 'number') this.fail(`Value of ${label} must be numeric`)
      const numText = this.r.text
      if (this.r.next() !== 'endArray') this.fail(TOO_MANY_ELEMENTS)
      const n = this.number(numText)
      this.close(TOO_MANY_ELEMENTS)
      const bounds =
        op === '='
          ? { low: n, lowInclusive: true, high: n, highInclusive: true }
          : { low: -Infinity, lowInclusive: false, high: n, highInclusive: op === '<=' }
      return { kind: 'numeric', bounds }
    }
    if (op !== '>' && op !== '>=') this.fail(`Unrecognized numeric range operator: ${op}`)
    if (this.r.next() !== 'number') this.fail(`Value of ${op} must be numeric`)
    const lowText = this.r.text
    const t = this.r.next()
    if (t === 'endArray') {
      const low = this.number(lowText)
      this.close(TOO_MANY_ELEMENTS)
      const bounds = { low, lowInclusive: op === '>=', high: Infinity, highInclusive: false }
      return { kind: 'numeric', bounds }
    }
    if (t !== 'string') this.fail(`Bad value in numeric range: ${this.tokenText(t)}`)
    const upperOp = this.r.text
    if (upperOp !== '<' && upperOp !== '<=') this.fail(`Bad numeric range operator: ${upperOp}`)
    if (this.r.next() !== 'number') this.fail(`Value of ${upperOp} must be numeric`)
    const highText = this.r.text
    if (this.r.next() !== 'endArray') this.fail('Too many terms in numeric range expression')
    const low = this.number(lowText)
    const high = this.number(highText)
    if (low >= high) this.fail('Bottom must be less than top')
    this.close(TOO_MANY_ELEMENTS)
    const bounds = { low, lowInclusive: op === '>=', high, highInclusive: upperOp === '<=' }
    return { kind: 'numeric', bounds }
  }

  private cidr(): Condition {
    const value = this.string('prefix match pattern must be a string')
    const range = cidrRange(value)
    if (typeof range === 'string') this.fail(range, false)
    this.close(ONE_KEY)
    return { kind: 'cidr', value, range }
  }

  private anythingBut(): Condition {
    let t = this.r.next()
    if (t === 'startObject') {
      if (this.r.next() !== 'fieldName') this.fail('Anything-But expression name not found')
      const kind = this.r.text
      if (
        kind !== 'equals-ignore-case' &&
        kind !== 'prefix' &&
        kind !== 'suffix' &&
        kind !== 'wildcard'
      ) {
        this.fail(`Unsupported anything-but pattern: ${kind}`)
      }
      t = this.r.next()
      const excluded = this.exclusionValues(kind, t)
      this.close(TOO_MANY_ELEMENTS)
      this.close(TOO_MANY_ELEMENTS)
      return { kind: 'anything-but', excluded }
    }
    const excluded: ExclusionCondition[] = []
    if (t === 'startArray') {
      let strings = 0
      let numbers = 0
      for (;;) {
        const e = this.r.next()
        if (e === 'endArray') break
        if (e === 'string') {
          strings++
          excluded.push({ kind: 'string', value: this.r.text })
        } else if (e === 'number') {
          numbers++
          excluded.push({
            kind: 'number',
            value: this.number(this.r.text, false),
            text: this.r.text,
          })
        } else {
          this.fail('Inside anything but list, start|null|boolean is not supported.')
        }
      }
      if (strings > 0 === numbers > 0) {
        this.fail(
          'Inside anything but list, either all values are number or string, mixed type is not supported',
        )
      }
    } else if (t === 'string') {
      excluded.push({ kind: 'string', value: this.r.text })
    } else if (t === 'number') {
      excluded.push({ kind: 'number', value: this.number(this.r.text, false), text: this.r.text })
    } else {
      this.fail('Value of anything-but must be an array or single string/number value.')
    }
    this.close(TOO_MANY_ELEMENTS)
    return { kind: 'anything-but', excluded }
  }

  /** The values of `{"anything-but": {"<kind>": value-or-list}}`; `t` is the value's first token. */
  private exclusionValues(
    kind: 'equals-ignore-case' | 'prefix' | 'suffix' | 'wildcard',
    t: TokenKind,
  ): ExclusionCondition[] {
    const typeError =
      kind === 'equals-ignore-case'
        ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
        : kind === 'wildcard'
          ? 'wildcard match pattern must be a string'
          : 'prefix/suffix match pattern must be a string'
    const values: string[] = []
    const take = (token: TokenKind): void => {
      if (token !== 'string') this.fail(typeError)
      const v = this.r.text
      if ((kind === 'prefix' || kind === 'suffix') && v === '') {
        this.fail('Null prefix/suffix not allowed')
      }
      values.push(v)
    }
    if (t === 'startArray') {
      for (let e = this.r.next(); e !== 'endArray'; e = this.r.next()) take(e)
    } else if (t === 'string' || t === 'number') {
      take(t)
    } else {
      this.fail('Value of anything-but must be an array or single string/number value.')
    }
    // wildcard syntax is judged once the whole list has been read
    if (kind === 'wildcard') for (const v of values) this.wildcardSyntax(v)
    return values.map((value): ExclusionCondition => {
      switch (kind) {
        case 'equals-ignore-case':
          return { kind, value: foldPattern(value) }
        case 'wildcard':
          return { kind, value, parts: wildcardParts(value) }
        default:
          return { kind, value, ignoreCase: false }
      }
    })
  }

  private wildcardSyntax(value: string): void {
    const problem = checkWildcard(value)
    if (problem !== null) this.fail(problem)
  }

  private checkComplexity(branches: readonly (readonly FieldTest[])[]): void {
    // distinct wildcard values per field add up, across branches too
    const perField = new Map<string, Map<string, readonly string[]>>()
    for (const branch of branches) {
      for (const test of branch) {
        for (const c of test.conditions) {
          const wildcards =
            c.kind === 'wildcard'
              ? [c]
              : c.kind === 'anything-but'
                ? c.excluded.filter((e) => e.kind === 'wildcard')
                : []
          for (const w of wildcards) {
            let values = perField.get(test.path)
            if (values === undefined)
              perField.set(test.path, (values = new Map<string, readonly string[]>()))
            values.set(w.value, w.parts)
          }
        }
      }
    }
    for (const values of perField.values()) {
      let score = 0
      for (const parts of values.values()) {
        score += wildcardComplexity(parts)
        if (score > MAX_WILDCARD_COMPLEXITY) this.fail(TOO_COMPLEX, false)
      }
    }
  }

  private string(message: string): string {
    if (this.r.next() !== 'string') this.fail(message)
    return this.r.text
  }

  private close(message: string): void {
    if (this.r.next() !== 'endObject') this.fail(message)
  }

  private number(text: string, located = true): number {
    const n = comparableNumber(text)
    if (n === null) this.fail(`Cannot compare number : ${text}`, located)
    return n
  }

  private tokenText(t: TokenKind): string {
    switch (t) {
      case 'string':
      case 'number':
      case 'fieldName':
        return this.r.text
      case 'startArray':
        return '['
      case 'endArray':
        return ']'
      case 'startObject':
        return '{'
      case 'endObject':
        return '}'
      case 'end':
        return ''
      default:
        return t
    }
  }

  private fail(reason: string, located = true): never {
    throw new PatternError(
      reason,
      located ? { location: sourceRef(this.text, this.r.position) } : {},
    )
  }
}

/**
 * Field tests found by hash lookups come first, then prefixes and suffixes, then the tests
 * checked one by one (ranges, wildcards, cidr, anything-but, absence): the automaton then
 * narrows on the cheap fields before it reaches the dear ones. Any order is correct.
 */
function byCostThenPath(a: FieldTest, b: FieldTest): number {
  const byCost = cost(a) - cost(b)
  if (byCost !== 0) return byCost
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0
}

function cost(test: FieldTest): number {
  let worst = 0
  for (const c of test.conditions) {
    switch (c.kind) {
      case 'string':
      case 'number':
      case 'literal':
      case 'ip':
      case 'equals-ignore-case':
        break
      case 'prefix':
      case 'suffix':
        worst = Math.max(worst, 1)
        break
      default:
        worst = Math.max(worst, 2)
    }
  }
  return worst
}

/** A string value that reads as an IP address also matches other spellings of that address. */
function stringCondition(value: string): Condition {
  if (looksLikeIp(value)) {
    const ip = parseIp(value)
    if (ip !== null) return { kind: 'ip', value, range: rangeOf(ip, ip.hex.length * 4) }
  }
  return { kind: 'string', value }
}

/** Numbers match numerically when they survive conversion to a double, else by their text. */
function numberCondition(text: string): Condition {
  const n = comparableNumber(text)
  return { kind: 'number', value: n ?? NaN, text }
}

/** Parses `address/bits`; returns the range or the reason it is refused. */
export function cidrRange(text: string): ReturnType<typeof rangeOf> | string {
  const parts = text.split('/')
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  if (parts.length !== 2) return "Malformed CIDR, one '/' required"
  const [address, maskText] = parts as [string, string]
  if (!/^[+-]?\d+$/.test(maskText) || Math.abs(Number(maskText)) > 2147483647) {
    return 'Malformed CIDR, mask bits must be an integer'
  }
  const bits = Number(maskText)
  if (bits < 0) return 'Malformed CIDR, mask bits must not be negative'
  if (!looksLikeIp(address)) return `Nonstandard IP address: ${address}`
  const ip = parseIp(address)
  if (ip === null) return `Invalid IP address: ${address}`
  if (ip.version === 4 && bits >= 32) return 'IPv4 mask bits must be < 32'
  if (ip.version === 6 && bits >= 128) return 'IPv6 mask bits must be < 128'
  return rangeOf(ip, bits)
}
