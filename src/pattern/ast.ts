/**
 * The compiled form of one event pattern, independent of JSON syntax.
 *
 * A pattern is a disjunction of {@link Branch}es (one per combination of `$or` choices). A branch
 * is a conjunction of {@link FieldTest}s, one per flattened field path; a field test passes when
 * the event has a value at that path satisfying any one of its {@link Condition}s.
 */

/** An IP range as two hex strings of equal width (8 digits for IPv4, 32 for IPv6). */
export type IpRange = { readonly version: 4 | 6; readonly low: string; readonly high: string }

export type Condition =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly text: string }
  | { readonly kind: 'literal'; readonly value: true | false | null }
  /** A string pattern value that is an IP literal: it also matches equal addresses. */
  | { readonly kind: 'ip'; readonly value: string; readonly range: IpRange }
  | { readonly kind: 'prefix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'suffix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'equals-ignore-case'; readonly value: string }
  | { readonly kind: 'wildcard'; readonly value: string; readonly parts: readonly string[] }
  | { readonly kind: 'numeric'; readonly bounds: NumericBounds }
  | { readonly kind: 'cidr'; readonly value: string; readonly range: IpRange }
  | { readonly kind: 'exists'; readonly value: boolean }
  /** Present, and matched by none of `excluded`. */
  | { readonly kind: 'anything-but'; readonly excluded: readonly ExclusionCondition[] }

export type ExclusionCondition = Extract<
  Condition,
  { kind: 'string' | 'number' | 'ip' | 'prefix' | 'suffix' | 'equals-ignore-case' | 'wildcard' }
>

export type NumericBounds = {
  readonly low: number
  readonly lowInclusive: boolean
  readonly high: number
  readonly highInclusive: boolean
}

export type FieldTest = { readonly path: string; readonly conditions: readonly Condition[] }

/** Field tests, cheapest to look up first (see parse.ts); at most one per path. */
export type Branch = readonly FieldTest[]

export type CompiledPattern = { readonly branches: readonly Branch[] }
