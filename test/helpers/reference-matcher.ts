/**
 * The test oracle: a slow, obviously correct matcher for one pattern and one event, written
 * apart from src/pattern so that the two can be compared. It enumerates every leaf of the event
 * and every combination of leaves; it never decides routing.
 *
 * Semantics (docs/patterns.md): a pattern is an OR of branches (`$or` expanded); a branch is an
 * AND of fields; a field is an OR of its conditions. Leaves picked for one branch must come
 * from the same element of every array whose object or array elements they share; an
 * `exists: false` field holds when no leaf at its path agrees with the picked leaves.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Leaf = { path: string; value: null | boolean | number | string; trail: [number, number][] }
type Field = { path: string; conditions: Json[] }

export function referenceMatches(
  pattern: Record<string, Json>,
  event: Record<string, Json>,
): boolean {
  const leaves: Leaf[] = []
  let arrays = 0
  const walk = (v: Json, path: string, trail: [number, number][]): void => {
    if (Array.isArray(v)) {
      const id = arrays++
      v.forEach((e, i) => {
        const isContainer = e !== null && typeof e === 'object'
        walk(e, path, isContainer ? [...trail, [id, i]] : trail)
      })
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v))
        walk(child, path === '' ? k : `${path}.${k}`, trail)
    } else {
      leaves.push({ path, value: v, trail })
    }
  }
  walk(event, '', [])
  return branches(pattern, '').some((fields) => branchMatches(fields, leaves))
}

function branches(obj: Record<string, Json>, prefix: string): Field[][] {
  let result: Field[][] = [[]]
  for (const [key, value] of Object.entries(obj)) {
    let options: Field[][]
    if (key === '$or') {
      options = (value as Record<string, Json>[]).flatMap((alt) => branches(alt, prefix))
    } else {
      const path = prefix === '' ? key : `${prefix}.${key}`
      options = Array.isArray(value)
        ? [[{ path, conditions: value }]]
        : branches(value as Record<string, Json>, path)
    }
    // a later field on the same path replaces the earlier one, as a repeated key would
    result = result.flatMap((r) =>
      options.map((o) => [...r.filter((f) => !o.some((g) => g.path === f.path)), ...o]),
    )
  }
  return result
}

function agree(a: Leaf, b: Leaf): boolean {
  for (const [id, index] of a.trail) {
    const other = b.trail.find(([otherId]) => otherId === id)
    if (other !== undefined && other[1] !== index) return false
  }
  return true
}

const ABSENT = Symbol('absent')

function branchMatches(fields: Field[], leaves: Leaf[]): boolean {
  const choices = fields.map((f) => {
    const at = leaves.filter((l) => l.path === f.path)
    const options: (Leaf | typeof ABSENT)[] = at.filter((l) =>
      f.conditions.some((c) => leafSatisfies(c, l)),
    )
    if (f.conditions.some((c) => isExists(c, false))) options.push(ABSENT)
    return { field: f, at, options }
  })
  const pick = (k: number, chosen: Leaf[]): boolean => {
    if (k === choices.length) {
      return choices.every(
        (c, i) => picked[i] !== ABSENT || c.at.every((l) => !chosen.every((x) => agree(l, x))),
      )
    }
    for (const option of choices[k]!.options) {
      picked[k] = option
      if (option === ABSENT) {
        if (pick(k + 1, chosen)) return true
      } else if (chosen.every((x) => agree(option, x)) && pick(k + 1, [...chosen, option])) {
        return true
      }
    }
    return false
  }
  const picked: (Leaf | typeof ABSENT)[] = []
  return pick(0, [])
}

function isExists(c: Json, value: boolean): boolean {
  return c !== null && typeof c === 'object' && !Array.isArray(c) && c.exists === value
}

function leafSatisfies(c: Json, leaf: Leaf): boolean {
  const v = leaf.value
  if (c === null || typeof c !== 'object') return c === v
  if (Array.isArray(c)) return false
  const [op, arg] = Object.entries(c)[0]!
  const s = typeof v === 'string' ? v : null
  switch (op) {
    case 'exists':
      return arg === true
    case 'prefix':
      if (s === null) return false
      return typeof arg === 'string'
        ? s.startsWith(arg)
        : s
            .toLowerCase()
            .startsWith(
              ((arg as Record<string, Json>)['equals-ignore-case'] as string).toLowerCase(),
            )
    case 'suffix':
      if (s === null) return false
      return typeof arg === 'string'
        ? s.endsWith(arg)
        : s
            .toLowerCase()
            .endsWith(((arg as Record<string, Json>)['equals-ignore-case'] as string).toLowerCase())
    case 'equals-ignore-case':
      return s !== null && s.toLowerCase() === (arg as string).toLowerCase()
    case 'wildcard':
      return s !== null && wildcardRegExp(arg as string).test(s)
    case 'numeric':
      return typeof v === 'number' && numericHolds(arg as Json[], v)
    case 'anything-but':
      return !excludes(arg, v)
    default:
      throw new Error(`oracle does not know ${op}`)
  }
}

function excludes(arg: Json, v: Leaf['value']): boolean {
  if (Array.isArray(arg)) return arg.some((a) => a === v)
  if (arg === null || typeof arg !== 'object') return arg === v
  const [op, value] = Object.entries(arg)[0]!
  const list = (Array.isArray(value) ? value : [value]) as string[]
  if (typeof v !== 'string') return false
  return list.some((x) =>
    op === 'prefix'
      ? v.startsWith(x)
      : op === 'suffix'
        ? v.endsWith(x)
        : op === 'equals-ignore-case'
          ? v.toLowerCase() === x.toLowerCase()
          : wildcardRegExp(x).test(v),
  )
}

function numericHolds(terms: Json[], n: number): boolean {
  for (let i = 0; i < terms.length; i += 2) {
    const bound = terms[i + 1] as number
    const ok = {
      '=': n === bound,
      '<': n < bound,
      '<=': n <= bound,
      '>': n > bound,
      '>=': n >= bound,
    }[terms[i] as '=' | '<' | '<=' | '>' | '>=']
    if (!ok) return false
  }
  return true
}

function wildcardRegExp(w: string): RegExp {
  let source = ''
  for (let i = 0; i < w.length; i++) {
    const ch = w[i]!
    if (ch === '\\') source += escapeRegExp(w[++i]!)
    else if (ch === '*') source += '.*'
    else source += escapeRegExp(ch)
  }
  return new RegExp(`^${source}$`, 's')
}

function escapeRegExp(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}
