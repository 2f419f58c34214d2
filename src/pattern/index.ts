/**
 * @module
 * Junction's event-pattern engine: EventBridge's pattern language, validated with EventBridge's
 * messages and compiled so that all the rules of a bus are matched in one pass.
 *
 * @example
 * ```ts
 * import { createMatcher } from 'junction/pattern'
 * const m = createMatcher()
 * m.add('orders', '{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}')
 * m.matches('{"source":"shop","detail":{"total":250}}') // → ['orders']
 * ```
 */
import type { CompiledPattern } from './ast.js'
import { PatternError } from './errors.js'
import { explainCompiled, type Explanation } from './explain.js'
import { compilePattern, type CompileOptions } from './parse.js'
import { RuleSet } from './rule-set.js'

export { PatternError } from './errors.js'
export type { Explanation } from './explain.js'
export type { CompileOptions } from './parse.js'
export { DEFAULT_MAX_PATTERN_LENGTH } from './parse.js'

/**
 * Validates pattern text. Returns `null` when EventBridge would accept it, else the error
 * EventBridge would give (its `message` is AWS's text, its `code` AWS's error code).
 *
 * @example checkPattern('{"source": "x"}')?.message
 * // → 'Event pattern is not valid. Reason: "source" must be an object or an array\n at …'
 */
export function checkPattern(text: string, options?: CompileOptions): PatternError | null {
  try {
    compilePattern(text, options)
    return null
  } catch (e) {
    if (e instanceof PatternError) return e
    throw e
  }
}

/** The rules of one bus, compiled together. */
export type Matcher = {
  /** Adds or replaces a rule; throws {@link PatternError} for an invalid pattern. */
  add(ruleId: string, patternText: string): void
  /** Removes a rule; `false` if there was none. */
  remove(ruleId: string): boolean
  has(ruleId: string): boolean
  readonly size: number
  /**
   * Ids of the rules the event matches. `event` is JSON text (scanned without building the
   * fields no rule uses) or an already parsed object.
   */
  matches(event: string | object): string[]
}

/**
 * Creates an empty matcher. Adding or removing a rule changes only that rule's part of the
 * automaton. Calls run to completion, so `matches` never sees a half-applied `add`.
 *
 * @example
 * const m = createMatcher()
 * m.add('r1', '{"detail-type":["NEW_WIDGET"]}')
 * m.matches({ 'detail-type': 'NEW_WIDGET' }) // → ['r1']
 */
export function createMatcher(options?: CompileOptions): Matcher {
  const rules = new RuleSet()
  return {
    add: (ruleId, patternText) => rules.add(ruleId, compilePattern(patternText, options)),
    remove: (ruleId) => rules.remove(ruleId),
    has: (ruleId) => rules.has(ruleId),
    get size() {
      return rules.size
    },
    matches: (event) => rules.matches(event),
  }
}

/**
 * Whether one event matches one pattern, through the same compiled matcher that routing uses
 * (this is TestEventPattern). Throws {@link PatternError} for an invalid pattern.
 *
 * @example matchesPattern('{"source":["a"]}', '{"source":"a"}') // → true
 */
export function matchesPattern(patternText: string, event: string | object): boolean {
  const rules = new RuleSet()
  rules.add('pattern', compilePattern(patternText))
  return rules.matches(event).length > 0
}

/**
 * Explains a match or a miss, e.g. `no match: detail.state: "stopped" matched none of ["running"]`.
 * Throws {@link PatternError} for an invalid pattern.
 */
export function explain(patternText: string, event: string | object): Explanation {
  const compiled: CompiledPattern = compilePattern(patternText)
  const parsed: object = typeof event === 'string' ? (JSON.parse(event) as object) : event
  return explainCompiled(compiled, parsed)
}
