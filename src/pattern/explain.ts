/**
 * Says why an event matches a pattern or not, in terms of the pattern's own fields: for a
 * match, the branch that matched; for a miss, the first field (in path order) of the closest
 * branch that no value of the event satisfied. Every verdict comes from the compiled matcher,
 * never from a second implementation of the operators.
 */
import type { Branch, CompiledPattern } from './ast.js'
import { RuleSet } from './rule-set.js'

export type Explanation =
  | {
      readonly matched: true
      readonly branch: number
      readonly fields: readonly string[]
      readonly text: string
    }
  | {
      readonly matched: false
      /** The path that failed, or `null` when each field passes alone but not together. */
      readonly path: string | null
      readonly branch: number
      readonly text: string
    }

export function explainCompiled(pattern: CompiledPattern, event: object): Explanation {
  const whole = new RuleSet()
  pattern.branches.forEach((b, k) => {
    whole.add(String(k), { branches: [b] })
  })
  const hits = whole
    .matches(event)
    .map(Number)
    .sort((a, b) => a - b)
  const first = hits[0]
  if (first !== undefined) {
    const branch = pattern.branches[first]!
    const fields = branch.map((t) => t.path)
    const where =
      pattern.branches.length > 1 ? ` (branch ${first + 1} of ${pattern.branches.length})` : ''
    return {
      matched: true,
      branch: first,
      fields,
      text: `matched${where}: ${branch.map((t) => describeTest(t, event)).join('; ')}`,
    }
  }
  // the closest branch is the one with the most fields satisfied on their own
  let best = { branch: 0, passed: -1, failed: null as Branch[number] | null }
  pattern.branches.forEach((branch, k) => {
    let passed = 0
    let failed: Branch[number] | null = null
    for (const test of branch) {
      const single = new RuleSet()
      single.add('t', { branches: [[test]] })
      if (single.matches(event).length > 0) passed++
      else failed ??= test
    }
    if (passed > best.passed) best = { branch: k, passed, failed }
  })
  const where =
    pattern.branches.length > 1
      ? ` (closest of ${pattern.branches.length} branches: ${best.branch + 1})`
      : ''
  if (best.failed === null) {
    const paths = pattern.branches[best.branch]!.map((t) => t.path).join(', ')
    return {
      matched: false,
      path: null,
      branch: best.branch,
      text: `no match${where}: ${paths} each match, but not within the same element of an array`,
    }
  }
  return {
    matched: false,
    path: best.failed.path,
    branch: best.branch,
    text: `no match${where}: ${describeTest(best.failed, event, true)}`,
  }
}

function describeTest(test: Branch[number], event: object, failed = false): string {
  const values = valuesAt(event, test.path)
  const shown = values.length === 0 ? '(absent)' : values.map((v) => JSON.stringify(v)).join(', ')
  const wanted = JSON.stringify(test.conditions.map(showCondition))
  return failed
    ? `${test.path}: ${shown} matched none of ${wanted}`
    : `${test.path}: ${shown} matched ${wanted}`
}

/** A condition as the user wrote it (near enough: case-folded values are shown folded). */
function showCondition(c: Branch[number]['conditions'][number]): unknown {
  switch (c.kind) {
    case 'string':
    case 'ip':
      return c.value
    case 'number':
      return Number.isNaN(c.value) ? c.text : c.value
    case 'literal':
      return c.value
    case 'prefix':
    case 'suffix':
      return { [c.kind]: c.ignoreCase ? { 'equals-ignore-case': c.value } : c.value }
    case 'equals-ignore-case':
    case 'wildcard':
    case 'cidr':
    case 'exists':
      return { [c.kind]: c.value }
    case 'numeric': {
      const b = c.bounds
      if (b.low === b.high) return { numeric: ['=', b.low] }
      const out: unknown[] = []
      if (b.low !== -Infinity) out.push(b.lowInclusive ? '>=' : '>', b.low)
      if (b.high !== Infinity) out.push(b.highInclusive ? '<=' : '<', b.high)
      return { numeric: out }
    }
    case 'anything-but':
      return { 'anything-but': c.excluded.map(showCondition) }
  }
}

/** Leaf values at a dotted path, through arrays and dotted keys. */
function valuesAt(value: unknown, path: string): unknown[] {
  const out: unknown[] = []
  const walk = (v: unknown, rest: string): void => {
    if (Array.isArray(v)) {
      for (const e of v) walk(e, rest)
      return
    }
    if (rest === '') {
      if (v === null || typeof v !== 'object') out.push(v)
      return
    }
    if (v === null || typeof v !== 'object') return
    for (const [key, child] of Object.entries(v)) {
      if (rest === key) walk(child, '')
      else if (rest.startsWith(`${key}.`)) walk(child, rest.slice(key.length + 1))
    }
  }
  walk(value, path)
  return out
}
